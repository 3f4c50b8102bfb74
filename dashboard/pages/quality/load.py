"""What the 数据质量 page reads, as typed models: devices online per department and type, dead letters by
reason and the newest of them, the months a report is offered for, and the monthly report itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

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
    daily: pd.DataFrame  # per day of the last 30: received, stored, late, rejected


@dataclass(frozen=True, slots=True)
class Page:
    health: Health
    months: list[Month]  # this one (so far), last month, then the ten before


def health(data: Data, now: datetime) -> Health:
    return Health(now, data.online_by_type(now), data.dead_letters_by_reason(now), data.latest_dead_letters(),
                  data.daily_counters(now, TREND_DAYS))


def offered_months(now: datetime) -> list[Month]:
    return recent_months(now, REPORT_MONTHS)


def page(data: Data, now: datetime) -> Page:
    return Page(health(data, now), offered_months(now))


def report(data: Data, month: Month, now: datetime, lang: Lang) -> tuple[bytes, str]:
    """The month's 数据质量月报 as a Word file: (content, file name)."""
    from reports.quality import quality_report  # python-docx and matplotlib load only when someone downloads

    with data.pool.connection() as conn:
        return quality_report(conn, month, now, lang)
