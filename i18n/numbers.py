"""Numbers as a Chinese report prints them: 12,345 and 85.3% (on the pages and in the reports alike), small
rates with the digits that matter, changes with their sign. Pure."""

from __future__ import annotations

from typing import SupportsFloat, SupportsInt

from i18n.labels import Lang


def known(value: object) -> float | None:
    """A figure as a float, or None when it is missing (None, or the NaN pandas holds for one)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return None if value != value else float(value)


def fmt_int(value: SupportsInt | None) -> str:
    """12,345: digit groups as Chinese reports print them; None as a dash."""
    if value is None:
        return "—"
    return f"{int(value):,}"


def fmt_pct(value: SupportsFloat | None) -> str:
    """85.3% (one decimal); None (nothing to divide) as a dash, never 0%."""
    if value is None:
        return "—"
    return f"{float(value):.1f}%"


def fmt_rate(value: float | None) -> str:
    """A rate in %: 85.3% from 1 % up; 0.27% below (a reject rate of 0.0% would hide thousands); <0.01% if tiny."""
    if value is None or value == 0 or value >= 1:
        return fmt_pct(value)
    return "<0.01%" if value < 0.01 else f"{value:.2f}%"


def fmt_change(value: float | None) -> str:
    """A relative change: +3.2%, -0.5%; None (nothing to compare with) as a dash."""
    return "—" if value is None else f"{value:+.1f}%"


def fmt_points(value: float | None, lang: Lang) -> str:
    """A change of a rate in percentage points: +0.25 个百分点 / +0.25 pp."""
    if value is None:
        return "—"
    return f"{value:+.2f}" + (" 个百分点" if lang == "zh" else " pp")
