"""The report's chart: messages received and rejected per day, as a PNG. Pure, offline.

Drawn with matplotlib's Agg canvas on a ``Figure`` of its own (no pyplot state), so
two reports made at once in the dashboard's threads do not share a figure. Chinese
labels need a CJK font; the caller finds one with ``cjk_family`` (the project's machines
have Noto Sans CJK) and, without one, the chart's few words are printed in English.
"""

from __future__ import annotations

import functools
import io
import logging

import pandas as pd
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.ticker import FuncFormatter, MaxNLocator

from i18n.labels import Lang
from i18n.numbers import fmt_int
from reports.texts import rt

log = logging.getLogger("cityops.reports")

CJK_FAMILIES = ("Noto Sans CJK SC", "Source Han Sans SC", "Noto Sans SC", "WenQuanYi Zen Hei",
                "WenQuanYi Micro Hei", "Microsoft YaHei", "SimHei", "PingFang SC")
RECEIVED_COLOUR = "#3b6fb6"
REJECTED_COLOUR = "#d9534f"
SIZE_CM = (16.0, 8.5)
DPI = 200


@functools.cache
def cjk_family() -> str | None:
    """The first installed font family that has Chinese glyphs, or None."""
    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FAMILIES if name in installed), None)


def _bars(ax: Axes, days: list[int], values: list[int], colour: str, label: str, font: FontProperties) -> None:
    ax.bar(days, values, color=colour, width=0.75)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: fmt_int(v)))
    ax.set_ylabel(label, fontproperties=font)
    ax.tick_params(labelsize=7)
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)


def daily_chart(daily: pd.DataFrame, days_in_month: int, lang: Lang, family: str | None) -> bytes:
    """``daily`` (day, received, rejected) as two bar charts over the month's days: received above, rejected
    below on a scale of its own (a reject rate of 0.3 % would not show as a slice of the received bar)."""
    if lang == "zh" and family is None:
        log.warning("no Chinese font installed (e.g. fonts-noto-cjk): the chart's labels are in English")
        lang = "en"
    font = FontProperties(family=family, size=8) if family else FontProperties(size=8)
    fig = Figure(figsize=(SIZE_CM[0] / 2.54, SIZE_CM[1] / 2.54), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    days = [d.day for d in daily["day"]]
    _bars(top, days, [int(v) for v in daily["received"]], RECEIVED_COLOUR, rt("q.chart.received", lang), font)
    _bars(bottom, days, [int(v) for v in daily["rejected"]], REJECTED_COLOUR, rt("q.chart.rejected", lang), font)
    bottom.set_xlim(0.4, days_in_month + 0.6)
    bottom.set_xticks(range(1, days_in_month + 1, 2 if days_in_month > 16 else 1))
    bottom.set_xlabel(rt("q.chart.x", lang), fontproperties=font)
    fig.align_ylabels()
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI)
    return out.getvalue()
