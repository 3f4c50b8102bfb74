"""What the 领导驾驶舱 reads, as typed models: under one set of filters (checked on the server), the
totals, the daily trend, the 12345 hotspots ranked by kind and by township, and a page at a time of the overdue
list, the township ranking and the incident list; any incident's log for its timeline; and the rows of both
Excel exports. The numbers are SQL aggregates (``reads_leader``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from dashboard.actions import on_desk_of
from dashboard.components import pages_of
from dashboard.data import Data
from dashboard.filters import Filters, default_range

PAGE_ROWS = 20  # the ranking and the incident list, a page at a time: nothing scrolls inside the page
OVERDUE_ROWS = 8  # beside the trend chart, about as tall as it
EXPORT_LIMIT = 100_000  # rows; a year of a city's incidents fits, a runaway query does not


@dataclass(frozen=True, slots=True)
class Summary:
    total: int
    closed: int
    close_rate: float | None
    overdue: int
    on_time_rate: float | None
    rework: int


@dataclass(frozen=True, slots=True)
class Paged:
    """One page of a table: its rows, how many rows there are in all, and which page this is."""

    now: datetime
    names: dict[str, str]  # region code → name
    rows: pd.DataFrame
    total: int
    page: int


@dataclass(frozen=True, slots=True)
class Hotspots:
    """12345 hotspots (主动治理) of the period, ranked per kind of complaint and per township."""

    kinds: pd.DataFrame  # complaint, hotspots, tickets, closed
    areas: pd.DataFrame  # township_code, district_code, hotspots, tickets, closed
    names: dict[str, str]


@dataclass(frozen=True, slots=True)
class Panels:
    """What the filters drive at once: the totals, the trend and the first page of the overdue list and
    of the ranking (``update``'s outputs)."""

    filters: Filters
    summary: Summary
    daily: pd.DataFrame  # incidents per local day and category
    moved: pd.DataFrame  # 人员转移 per local day
    overdue: Paged
    ranking: Paged
    hotspots: Hotspots


@dataclass(frozen=True, slots=True)
class Choices:
    """What the filter bar offers: (code, name) of districts and townships, and the categories."""

    districts: list[tuple[str, str]]
    townships: list[tuple[str, str]]
    categories: list[str]


@dataclass(frozen=True, slots=True)
class Page:
    """What the cockpit shows when it opens: the last 30 days, everywhere."""

    choices: Choices
    panels: Panels
    listing: Paged
    escalated: pd.DataFrame  # open incidents escalated to a leader (``Data.escalated_to_leaders``), on top


@dataclass(frozen=True, slots=True)
class Timeline:
    now: datetime
    incident: dict[str, Any]  # ``Data.incident``'s row
    log: pd.DataFrame
    names: dict[str, str]


Reader = Callable[[int, int], tuple[pd.DataFrame, int]]  # (limit, offset) → (rows, rows in all)


def _page(read: Reader, page: int, size: int, now: datetime, names: dict[str, str]) -> Paged:
    """Page ``page``; the last one when fewer rows are left than it needs (rows may have gone meanwhile)."""
    page = max(page, 1)
    rows, total = read(size, (page - 1) * size)
    if rows.empty and total:
        page = pages_of(total, size)
        rows, total = read(size, (page - 1) * size)
    return Paged(now, names, rows, total, page)


def overdue(data: Data, f: Filters, now: datetime, names: dict[str, str], page: int = 1) -> Paged:
    return _page(lambda n, skip: data.overdue_list(f, now, n, skip), page, OVERDUE_ROWS, now, names)


def ranking(data: Data, f: Filters, now: datetime, names: dict[str, str], page: int = 1,
            ranked: pd.DataFrame | None = None) -> Paged:
    """A page of the ranking (``ranked``: ``township_ranking``'s rows, when already read)."""
    rows = data.township_ranking(f, now) if ranked is None else ranked  # every township: the rank needs them all
    return _page(lambda n, skip: (rows.iloc[skip:skip + n], len(rows)), page, PAGE_ROWS, now, names)


def listing(data: Data, f: Filters, now: datetime, names: dict[str, str], page: int = 1) -> Paged:
    """A page of the incidents that match (the export has them all)."""
    return _page(lambda n, skip: data.incident_list(f, now, n, skip), page, PAGE_ROWS, now, names)


def panels(data: Data, f: Filters, now: datetime, names: dict[str, str]) -> Panels:
    ranked = data.township_ranking(f, now)  # read once: the 按期签收率 card sums it
    return Panels(f, Summary(**data.leader_summary(f, now, ranked)), data.daily_counts(f), data.daily_people_moved(f),
                  overdue(data, f, now, names), ranking(data, f, now, names, ranked=ranked),
                  Hotspots(*data.hotspot_ranking(f), names))


def page(data: Data, now: datetime, district: str | None = None) -> Page:
    """What the cockpit opens on: the city; for a district's desk (``district``) its district only, and no
    escalations to leaders (those are the leaders')."""
    f, names = Filters(*default_range(now), district=district), data.unit_names()
    districts = [(c, n) for c, n in data.districts() if district is None or c == district]
    escalated = data.escalated_to_leaders() if district is None else pd.DataFrame()
    return Page(Choices(districts, townships_in(data, district), data.categories()), panels(data, f, now, names),
                listing(data, f, now, names), escalated)


def townships_in(data: Data, district: object) -> list[tuple[str, str]]:
    """The townships (code, name) of a district; all of them without one."""
    pairs = data.townships()
    return [(code, name) for code, name in pairs if code.startswith(district)] \
        if isinstance(district, str) and district else pairs


def timeline(data: Data, incident_id: int, now: datetime, district: str | None = None) -> Timeline | None:
    """Any incident's timeline; for a district's desk (``district``) only one on its desk."""
    incident = data.incident(incident_id)
    if incident is None or (district is not None and not on_desk_of(incident, district)):
        return None
    return Timeline(now, incident, data.incident_log(incident["id"]), data.unit_names())


@dataclass(frozen=True, slots=True)
class Export:
    rows: pd.DataFrame
    names: dict[str, str]


def export(data: Data, f: Filters, now: datetime, *, ranked: bool) -> Export:
    """The rows of an Excel export: the whole ranking, or every matching incident (not just a page)."""
    rows = data.township_ranking(f, now) if ranked else data.incident_list(f, now, EXPORT_LIMIT)[0]
    return Export(rows, data.unit_names())
