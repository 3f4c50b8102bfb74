"""What the 数据质量 page reads, as typed models: devices online per department and type, dead letters by
reason and the newest of them, the months a report is offered for, and the monthly report itself.

A district desk (区县指挥中心) reads its district's (``district``): its devices, and the dead letters its
devices sent. Ingest's daily counters and the monthly report are the whole city's (per feed, not per
place): it is shown neither."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from alerts.lifecycle import Role
from dashboard.auth import SessionUser
from dashboard.data import Data
from i18n.labels import Lang
from reports.month import Month, recent_months

TREND_DAYS = 30  # the days the daily chart shows, today included
REPORT_MONTHS = 12  # the months offered for the monthly report, this one included


@dataclass(frozen=True, slots=True)
class Health:
    now: datetime
    online: pd.DataFrame  # per department and type: devices, online, never seen
    by_reason: pd.DataFrame  # dead letters of the last 24 h per reason
    latest: pd.DataFrame  # the newest dead letters, with the head of their payload
    daily: pd.DataFrame | None  # per day of the last 30: received, stored, late, rejected (None: a district's)


@dataclass(frozen=True, slots=True)
class Page:
    health: Health
    months: list[Month]  # this one (so far), last month, then the ten before; none for a district's desk


def district_of(user: SessionUser) -> str | None:
    """The district whose data quality a user reads: a district desk's own; None (the city) for the others."""
    return user.district_code if user.role is Role.DISTRICT else None


def health(data: Data, now: datetime, district: str | None = None) -> Health:
    """The page's figures: the city's, or ``district``'s devices and their dead letters."""
    return Health(now, data.online_by_type(now, district), data.dead_letters_by_reason(now, district=district),
                  data.latest_dead_letters(district=district),
                  data.daily_counters(now, TREND_DAYS) if district is None else None)


def offered_months(now: datetime) -> list[Month]:
    return recent_months(now, REPORT_MONTHS)


def page(data: Data, now: datetime, district: str | None = None) -> Page:
    return Page(health(data, now, district), offered_months(now) if district is None else [])


def report(data: Data, month: Month, now: datetime, lang: Lang) -> tuple[bytes, str]:
    """The month's 数据质量月报 as a Word file: (content, file name)."""
    from reports.quality import quality_report  # python-docx and matplotlib load only when someone downloads

    with data.pool.connection() as conn:
        return quality_report(conn, month, now, lang)
