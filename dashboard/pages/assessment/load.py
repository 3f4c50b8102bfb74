"""What the 考核 page reads and works out: a period's figures per unit (``alerts.assessment``, from the
incident log), ranked against the previous period, and the incidents behind any one figure.

A district desk (区县指挥中心) assesses its own district: its townships ranked among themselves and its
district's own row (``district``); the departments are the city's. What ``reads_assessment`` returns is
cut to those units before anything is ranked, drilled into or exported."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from alerts.assessment import Period, Ranked, Stretch, figures, rank
from alerts.lifecycle import Role, district_of_unit
from dashboard.auth import SessionUser
from dashboard.data import Data
from dashboard.reads_assessment import WEIGHTS
from i18n.labels import Lang
from i18n.refusal import Refused
from reports.month import Month, recent_months

ROLLING_DAYS = 30
MONTHS = 12
KINDS = ("township", "department", "district")
DISTRICT_KINDS = ("township", "district")  # what a district desk ranks: its townships, and its district
# The figures a cell can open: the stretches each counts (Figures.incidents' keys).
DRILLS = ("dispatched", "signed_on_time", "due", "postponed", "handled_on_time", "closed", "returned",
          "returned_wrongly", "decided", "reworked", "reworked_thrice")


class BadQuery(Refused):
    """A value the page did not offer (a forged request); ``key`` names the message."""


@dataclass(frozen=True, slots=True)
class Query:
    period: str  # "30d" or a month "2026-11"
    kind: str  # what is ranked: township | department | district
    category: str | None
    level: int | None


def periods(now: datetime) -> list[tuple[str, Period]]:
    """What the period picker offers: the last 30 days, then this month so far and the months before."""
    rolling = Period(now - timedelta(days=ROLLING_DAYS), now)
    months = [(m.key, Period(m.start, min(m.end, now))) for m in recent_months(now, MONTHS)]
    return [("30d", rolling), *months]


def period_label(key: str, lang: Lang) -> str:
    if key == "30d":
        return f"近{ROLLING_DAYS}天" if lang == "zh" else f"Last {ROLLING_DAYS} days"
    return Month.parse(key).label(lang)


def previous(key: str, period: Period) -> Period:
    """The period the movement is measured against: the 30 days before, or the whole previous month."""
    if key == "30d":
        return period.previous()
    month = Month.parse(key).previous()
    return Period(month.start, month.end)


def district_of(user: SessionUser) -> str | None:
    """The district a user assesses: a district desk's own; None (the city) for the others."""
    return user.district_code if user.role is Role.DISTRICT else None


def kinds(district: str | None) -> tuple[str, ...]:
    """What the page offers to rank: everything for the city, a district desk its townships and its district."""
    return KINDS if district is None else DISTRICT_KINDS


def parse(now: datetime, *, period: object, kind: object, category: object, level: object,
          categories: list[str], district: str | None = None) -> Query:
    if period not in dict(periods(now)):
        raise BadQuery("assess.err.period")
    if kind not in kinds(district):
        raise BadQuery("assess.err.kind")
    if category not in (None, "") and category not in categories:
        raise BadQuery("err.bad_category")
    if level not in (None, "") and level not in (1, 2, 3, 4, "1", "2", "3", "4"):
        raise BadQuery("err.bad_level")
    assert isinstance(period, str) and isinstance(kind, str)
    return Query(period, kind, category if isinstance(category, str) and category else None,
                 int(level) if isinstance(level, int | str) and level != "" else None)


@dataclass(frozen=True, slots=True)
class Assessment:
    query: Query
    period: Period
    rows: list[Ranked]
    names: dict[str, str]  # unit or district code → name
    stretches: list[Stretch]  # the period's, for the incidents behind a figure
    key: dict[str, str] | None  # unit → what is ranked (a township's district), None: the unit itself

    def ranked_as(self, s: Stretch) -> str | None:
        """What ``s`` counts for in this ranking."""
        return self.key.get(s.unit) if self.key is not None else s.unit


def _units(data: Data, kind: str, district: str | None) -> tuple[list[str], dict[str, str] | None]:
    """The units ranked, and the key that maps a unit to them (districts: each township's); of ``district``
    only when one is given."""
    townships = [code for code, _ in data.townships()]
    if kind == "township":
        return [c for c in townships if district is None or district_of_unit(c) == district], None
    if kind == "department":
        return [code for code, _ in data.units() if code not in set(townships)], None
    return ([code for code, _ in data.districts() if district in (None, code)],
            {code: code[:6] for code in townships})


def assess(data: Data, q: Query, now: datetime, district: str | None = None) -> Assessment:
    """The ranking ``q`` asks for; a district desk's (``district``) of its own units only."""
    period = dict(periods(now))[q.period]
    before = previous(q.period, period)
    units, key = _units(data, q.kind, district)
    categories = frozenset({q.category}) if q.category else None
    levels = frozenset({q.level}) if q.level else None
    table = data.assessment_table(before.start, period.end)  # one window (the cache's) for both periods
    figs_now = figures(table, period, key, categories, levels)
    figs_before = figures(data.assessment_table(before.start, before.end), before, key, categories, levels)
    ranked = rank(figs_now, figs_before, units, WEIGHTS)
    chosen = set(units)
    a = Assessment(q, period, ranked, data.unit_names(), [], key)
    return replace(a, stretches=[s for s in table.stretches if a.ranked_as(s) in chosen])


@dataclass(frozen=True, slots=True)
class DrillRow:
    stretch: Stretch
    title: str
    status: str


def drill(data: Data, a: Assessment, unit: str, figure: str) -> list[DrillRow]:
    """The incidents behind ``figure`` of ``unit`` (a unit of the ranking), with each stretch's times."""
    if figure not in DRILLS:
        raise BadQuery("assess.err.figure")
    row = next((r for r in a.rows if r.figures.unit == unit), None)
    if row is None:
        raise BadQuery("assess.err.unit")
    ids = set(row.figures.incidents.get(figure, ()))
    return rows_of(data, [s for s in a.stretches if s.incident_id in ids and a.ranked_as(s) == unit])


def rows_of(data: Data, stretches: list[Stretch]) -> list[DrillRow]:
    """The stretches with their incidents' titles and statuses now."""
    titles = data.incident_titles(sorted({s.incident_id for s in stretches}))
    return [DrillRow(s, str(titles.get(s.incident_id, {}).get("title", "")),
                     str(titles.get(s.incident_id, {}).get("status", ""))) for s in stretches]
