"""Pieces of an incident that more than one page shows: the row a desk's queue holds, the near-boundary
badge, the buttons of a card, and its history (the log table, its details in words, the state timeline)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import pandas as pd
from dash import dcc, html

from alerts.status import Status
from dashboard import figures
from i18n.labels import MESSAGES, Lang, action_label, category_label, level_label, role_label, status_label, t
from i18n.timefmt import fmt_dt


@dataclass(frozen=True, slots=True)
class QueueRow:
    """An open incident as a desk's queue shows it (the rows of ``Data.command_queue`` / ``township_queue``)."""

    id: int
    title: str
    category: str
    level: int
    status: Status
    township_code: str | None
    created_at: datetime
    deadline: datetime | None  # the one it waits on now
    near: bool  # near a township border, its area not confirmed yet


def incidents(rows: pd.DataFrame) -> tuple[QueueRow, ...]:
    return tuple(QueueRow(int(r.id), r.title, r.category, int(r.level), Status(r.status),
                          r.township_code if isinstance(r.township_code, str) else None, r.created_at,
                          r.deadline if pd.notna(r.deadline) else None, bool(r.near_boundary))
                 for r in rows.itertuples())


class WidgetIds(StrEnum):
    LOG = "incident-log"  # the log table, on the incident page and in the leader's timeline panel


def band_chip(band: str | None, lang: Lang) -> html.Span:
    """考核's 优/良/中/差 in its colour; a dash for a unit with nothing to score."""
    return html.Span(t(f"assess.band.{band}", lang) if band else "—", className=f"band band-{band or 'none'}")


def near_badge(lang: Lang) -> html.Span:
    """近边界·请确认属地: the point may lie in the neighbouring township; shown until the area is confirmed."""
    return html.Span(t("near.badge", lang), title=t("near.badge_help", lang), className="badge near-boundary")


def incident_button(kind: str, incident_id: int, label: str, css: str) -> html.Button:
    """A button of an incident's card or row: pattern-matching id ``{"type": kind, "index": incident_id}``."""
    return html.Button(label, id={"type": kind, "index": incident_id}, className=f"btn {css}", n_clicks=0)


def township_options(townships: list[tuple[str, str]]) -> list[dict[str, str]]:
    """Dropdown options of (code, name) pairs, labelled ``name（code）``: two townships may share a name."""
    return [{"label": f"{name}（{code}）", "value": code} for code, name in townships]


def _detail_value(key: str, value: Any, names: dict[str, str], lang: Lang) -> str:
    """One detail's value in words: names for township codes, labels for levels, categories and ladder rungs."""
    if isinstance(value, bool):
        return t("common.yes" if value else "common.no", lang)
    if key in ("township_code", "suggested", "township_code_of_point", "from_township") and isinstance(value, str):
        return names.get(value, value)
    if key in ("district_code", "grid_code", "grid") and isinstance(value, str):
        return names.get(value, value)
    if key.endswith("_deadline") and isinstance(value, str):  # kept as ISO 8601 in UTC: said in local time
        try:
            return fmt_dt(datetime.fromisoformat(value))
        except ValueError:
            return value
    if key in ("level", "from_level") and isinstance(value, int):
        return level_label(value, lang)
    if key == "category" and isinstance(value, str):
        return category_label(value, lang)
    if key == "into" and isinstance(value, int):
        return f"#{value}"
    if key == "tier" and isinstance(value, int):
        return t("details.tier_n", lang, n=value)
    if key == "to" and f"details.to.{value}" in MESSAGES:
        return t(f"details.to.{value}", lang)
    if key == "result" and f"details.result.{value}" in MESSAGES:  # 处置结果's choice (alerts.feedback)
        return t(f"details.result.{value}", lang)
    if isinstance(value, list):  # 安置点, photos, the warnings an override closed over
        return ("、" if lang == "zh" else ", ").join(str(v) for v in value) or "—"
    return str(value)


def format_details(details: Any, names: dict[str, str], lang: Lang) -> str:
    """A log row's details as ``label：value`` pairs in the user's language.

    Township codes become names, levels, categories and escalation rungs become words; a level
    change reads ``old → new`` and a point ``lon, lat``. A key without a label shows as it is.
    """
    if isinstance(details, str):
        details = json.loads(details)
    if not isinstance(details, dict) or not details:
        return ""
    lon, lat = details.get("lon"), details.get("lat")
    point = isinstance(lon, int | float) and isinstance(lat, int | float)
    parts = []
    for key, value in details.items():
        if (key == "from_level" and "level" in details) or (key == "lat" and point):
            continue  # said with the new level / with the longitude
        if key == "lon" and point:
            label, shown = t("col.location", lang), f"{lon:.5f}, {lat:.5f}"
        else:
            label = t(f"details.{key}", lang) if f"details.{key}" in MESSAGES else key
            shown = _detail_value(key, value, names, lang)
            if key == "level" and "from_level" in details:
                shown = f"{_detail_value(key, details['from_level'], names, lang)} → {shown}"
        parts.append(f"{label}：{shown}" if lang == "zh" else f"{label}: {shown}")
    return "；".join(parts) if lang == "zh" else "; ".join(parts)


def log_table(log: pd.DataFrame, names: dict[str, str], lang: Lang) -> html.Table:
    """Every row of an incident's log: when, who, what, from which state to which, the note and the details."""
    header = html.Tr([html.Th(t(k, lang)) for k in ("col.at", "col.actor", "col.role", "col.action",
                                                      "col.transition", "col.note", "col.details")])
    body = [html.Tr([
        html.Td(fmt_dt(r.at, seconds=True), className="nowrap"),
        html.Td(r.actor),
        html.Td(role_label(r.role, lang)),
        html.Td(action_label(r.action, lang)),
        html.Td(f"{status_label(r.from_status if isinstance(r.from_status, str) else None, lang)}"
                f" → {status_label(r.to_status, lang)}",
                className="nowrap"),
        html.Td(r.note),
        html.Td(format_details(r.details, names, lang)),
    ], id=f"log-row-{r.id}") for r in log.itertuples()]
    return html.Table([html.Thead(header), html.Tbody(body)], className="table log-table", id=WidgetIds.LOG)


def timeline_graph(graph_id: str, log: pd.DataFrame, now: datetime, lang: Lang) -> dcc.Graph:
    """The Gantt of an incident's states, read from the same log rows as the table."""
    return dcc.Graph(id=graph_id, figure=figures.timeline(log, now, lang),
                     config={"displayModeBar": False, "displaylogo": False})
