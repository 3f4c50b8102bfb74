"""The big screen's parts besides the map, as pure functions: KPI cards, the warning feed, the
refresh plan (which parts changed and what to send for them)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from dash import Patch, html
from dash.development.base_component import Component

from dashboard.components import aria, level_badge
from dashboard.map.model import Changes, Props
from i18n.labels import Lang, t
from i18n.numbers import fmt_int, fmt_pct
from i18n.timefmt import fmt_recent
from ingest.health import online_percent

KPIS = ("today_new", "dispatched", "signed", "closed", "overdue", "escalated", "open", "on_time", "online_rate")
PERCENT_KPIS = ("on_time", "online_rate")
FRESH = timedelta(minutes=2)  # a warning this young is highlighted in the feed
ROLLING_FROM = 9  # more items than fit: the feed scrolls by itself


def kpi_text(key: str, value: Any) -> str:
    return fmt_pct(value) if key in PERCENT_KPIS else fmt_int(value)


def kpi_class(key: str, values: dict[str, Any]) -> str:
    alert = (key in ("overdue", "escalated") and values.get(key)) or (
        key == "online_rate" and values.get("online_rate") is not None and values["online_rate"] < 90)
    return f"kpi kpi-{key}" + (" kpi-alert" if alert else "")


def online_rate(devices: pd.DataFrame) -> float | None:
    """在线率 of the screen's devices, from the devices layer's per-grid rows (``map.points.device_read``)."""
    grids = devices[devices["kind"] == "grid"] if len(devices) else devices
    return online_percent(int(grids["online"].sum()), int(grids["devices"].sum())) if len(grids) else None


def warning_items(warnings: pd.DataFrame, names: dict[str, str], lang: Lang, now: datetime,
                  roll: bool = True) -> list[Any]:
    """In the order read (open first, the highest level, then the newest: ``LiveReads.latest_warnings``); a
    fresh warning pulses; a long list scrolls by itself (items doubled for the loop) unless ``roll`` is off."""
    if warnings.empty:
        return [html.Li(t("map.no_warnings", lang), className="muted")]
    items: list[html.Li] = []
    copies: list[html.Li] = []  # the second lap of a rolling feed
    for w in warnings.itertuples():
        title: Any = html.A(w.title, href=f"/incident/{int(w.incident_id)}") if pd.notna(w.incident_id) else w.title
        fresh = w.status == "open" and now - w.opened_at < FRESH
        content: list[Component] = [
            level_badge(int(w.level), lang),
            html.Span(title, className="warning-title"),
            html.Span(" · ".join(filter(None, [
                names.get(w.township_code or "", "") if isinstance(w.township_code, str) else "",
                fmt_recent(w.updated_at, now),
                t("warning.cleared", lang) if w.status == "cleared" else "",
            ])), className="warning-meta"),
        ]
        class_name = f"warning-item warning-{w.status}" + (" warning-new" if fresh else "")
        items.append(html.Li(content, className=class_name, id=f"warning-{int(w.id)}"))
        copies.append(_copy(content, class_name))
    if not rolls(len(items), roll):
        return items
    return [html.Div(items + copies, className="rolling", style={"animationDuration": f"{4 * len(items)}s"})]


def rolls(count: int, roll: bool = True) -> bool:
    return roll and count >= ROLLING_FROM


def _copy(content: list[Component], class_name: str) -> html.Li:
    """An item of the second lap of the rolling feed: same content, no id (ids must stay unique), hidden from
    screen readers."""
    return html.Li(content, className=class_name, **aria(hidden="true"))


def warnings_key(warnings: pd.DataFrame, now: datetime) -> Any:
    """What the feed shows, for its fingerprint (freshness included: the pulse stops after two minutes)."""
    return [[int(w.id), w.status, str(w.updated_at), now - w.opened_at < FRESH] for w in warnings.itertuples()]


def fingerprint(value: Any) -> str:
    """Short stable digest of what a part would send: equal digests, nothing to send."""
    return hashlib.blake2b(json.dumps(value, sort_keys=True, default=str, separators=(",", ":")).encode(),
                           digest_size=6).hexdigest()


@dataclass
class RefreshPlan:
    """What one refresh sends: a map Patch of the parts that changed, and the other outputs."""

    fp: dict[str, str]
    map_changes: Changes = field(default_factory=Changes)
    kpis: dict[str, Any] | None = None
    warnings: list[Any] | None = None
    trend: Any = None

    def part(self, name: str, value: Any) -> bool:
        """Record ``value``'s fingerprint under ``name``; True if it differs from what the screen has."""
        digest = fingerprint(value)
        changed = self.fp.get(name) != digest
        self.fp[name] = digest
        return changed

    def map(self, changes: Changes) -> None:
        """Queue the trace properties whose content differs from what the screen shows, one by one
        (a device going offline resends its colour, not every position)."""
        queued: dict[int, Props] = {}
        for index, props in changes.traces.items():
            for key, value in props.items():
                if self.part(f"{int(index)}.{key}", value):
                    queued.setdefault(int(index), {})[key] = value
        self.map_changes = self.map_changes.merge(Changes(queued))

    def map_patch(self) -> Patch | None:
        return self.map_changes.apply_to(Patch()) if self.map_changes.traces else None
