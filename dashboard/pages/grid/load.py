"""What the 网格巡查 page reads, as typed models: the member's grids, their open incidents (those waiting for
its 核查 on site first), its own reports with their status (and a declined one's reason), and the marker that
says when any of them changed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from alerts.status import Status
from dashboard.data import Data
from i18n.timefmt import local


@dataclass(frozen=True, slots=True)
class Row:
    id: int
    title: str
    category: str
    level: int
    status: Status
    grid_code: str | None
    created_at: datetime
    lon: float | None = None
    lat: float | None = None
    reason: str | None = None  # 不予立案's, for the reporter


def _rows(frame: pd.DataFrame) -> tuple[Row, ...]:
    return tuple(Row(int(r.id), str(r.title), str(r.category), int(r.level), Status(r.status),
                     r.grid_code if isinstance(r.grid_code, str) else None, r.created_at,
                     float(r.lon) if pd.notna(r.lon) else None, float(r.lat) if pd.notna(r.lat) else None,
                     getattr(r, "reason", None) if isinstance(getattr(r, "reason", None), str) else None)
                 for r in frame.itertuples())


@dataclass(frozen=True, slots=True)
class Lists:
    checks: tuple[Row, ...]  # 待现场核查 in its grids
    incidents: tuple[Row, ...]  # the other open incidents of its grids
    reports: tuple[Row, ...]  # its own reports, the newest first


@dataclass(frozen=True, slots=True)
class Page:
    grids: list[tuple[str, str]]  # (code, name) of the member's grids
    marker: str  # read before the lists
    lists: Lists
    center: tuple[float, float] | None  # the label point of its first grid: the form's position to start from
    outlines: list[tuple[list[float], list[float]]]  # the rings of its grids, (lons, lats): the map's


def lists(data: Data, grids: tuple[str, ...], username: str) -> Lists:
    rows = _rows(data.grid_incidents(grids))
    return Lists(tuple(r for r in rows if r.status is Status.SITE_CHECK),
                 tuple(r for r in rows if r.status is not Status.SITE_CHECK), _rows(data.reports_of(username)))


def marker(data: Data, grids: tuple[str, ...], username: str, now: datetime) -> str:
    return f"{local(now).strftime('%H%M')}|{data.grid_marker(grids, username)}"


def page(data: Data, grids: tuple[str, ...], username: str, now: datetime) -> Page:
    names = data.unit_names()
    list_marker = marker(data, grids, username, now)
    centre = data.region_label(grids[0]) if grids else None
    return Page([(g, names.get(g, g)) for g in grids], list_marker, lists(data, grids, username), centre,
                [ring for g in grids for ring in data.region_outline(g)])
