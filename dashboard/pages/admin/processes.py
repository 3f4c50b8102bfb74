"""The system's own processes on the admin page: every ingest worker, alert engine and dashboard worker
from its heartbeat row (cityops/heartbeat.py), whether it is ready, how long ago it last beat, and what it
measures of itself (ingest lag and buffer, the engine's leadership and evaluation lag).

Pure: rows in, a state and a table out; ``load.processes`` reads, ``callbacks.processes`` refreshes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from dash import html

from cityops.heartbeat import BEAT_EVERY_S
from i18n.labels import Lang, t
from i18n.numbers import fmt_int
from i18n.timefmt import fmt_dt, fmt_duration

SILENT_AFTER = timedelta(seconds=3 * BEAT_EVERY_S)  # three beats missed: the process is gone or stuck
SHOWN_FOR = timedelta(days=1)  # a process silent longer than this left the topology: not listed
COMPONENTS = ("ingest", "alerts", "dashboard")


class ProcessState(StrEnum):
    RUNNING = "running"
    NOT_READY = "not_ready"
    SILENT = "silent"


@dataclass(frozen=True, slots=True)
class ProcessRow:
    component: str
    process: str
    host: str
    pid: int
    started_at: datetime
    beat_at: datetime
    ready: bool
    detail: dict[str, Any]


def state(row: ProcessRow, now: datetime) -> ProcessState:
    if now - row.beat_at > SILENT_AFTER:
        return ProcessState.SILENT
    return ProcessState.RUNNING if row.ready else ProcessState.NOT_READY


def _seconds(value: Any, lang: Lang) -> str:
    return t("proc.seconds", lang, n=f"{float(value):.1f}") if isinstance(value, int | float) else "—"


def measures(row: ProcessRow, lang: Lang) -> str:
    """What the process reports of itself, in words: the checks that fail first."""
    d = row.detail
    failing = [name for name, ok in (d.get("checks") or {}).items() if not ok]
    parts = [t("proc.unreachable", lang, what=", ".join(t(f"proc.dep.{f}", lang) for f in failing))] if failing else []
    if row.component == "ingest":
        parts.append(t("proc.ingest", lang, lag=_seconds(d.get("lag_s"), lang), n=fmt_int(d.get("buffered") or 0)))
    elif row.component == "alerts":
        role = t("proc.leader" if d.get("leader") else "proc.standby", lang)
        parts.append(t("proc.alerts", lang, role=role, lag=_seconds(d.get("evaluation_lag_s"), lang)))
    return "；".join(parts) if lang == "zh" else "; ".join(parts)


def ago(seconds: float, lang: Lang) -> str:
    if seconds < 120:
        return t("proc.ago", lang, n=f"{seconds:.0f}")
    return t("proc.ago_long", lang, d=fmt_duration(timedelta(seconds=seconds), lang))


def table(rows: list[ProcessRow], now: datetime, lang: Lang) -> html.Div | html.P:
    if not rows:
        return html.P(t("proc.none", lang), className="muted")
    order = {c: i for i, c in enumerate(COMPONENTS)}
    body = []
    for row in sorted(rows, key=lambda r: (order.get(r.component, 9), r.process)):
        now_state = state(row, now)
        age = max(0.0, (now - row.beat_at).total_seconds())
        body.append(html.Tr([
            html.Td(t(f"proc.component.{row.component}", lang)),
            html.Td(row.process, className="nowrap"),
            html.Td(f"{row.host} · {row.pid}", className="nowrap"),
            html.Td(html.Span(t(f"proc.state.{now_state.value}", lang), className=f"badge proc-{now_state.value}")),
            html.Td(ago(age, lang), title=fmt_dt(row.beat_at, seconds=True), className="nowrap"),
            html.Td(fmt_dt(row.started_at), className="nowrap"),
            html.Td(measures(row, lang)),
        ], className=f"proc-row-{now_state.value}"))
    heads = ["proc.h.component", "proc.h.process", "proc.h.where", "proc.h.state", "proc.h.beat", "proc.h.started",
             "proc.h.measures"]
    return html.Div(html.Table([html.Thead(html.Tr([html.Th(t(h, lang)) for h in heads])), html.Tbody(body)],
                               className="table table-compact", id="adm-processes-table"), className="table-wrap")
