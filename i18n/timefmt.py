"""Times as the command center reads them: Asia/Shanghai wall clock, whatever the server's zone.

The database stores UTC (``timestamptz``); every time a person sees goes through
here, so no page prints a UTC hour by accident.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from alerts.deadlines import is_overdue
from i18n.labels import Lang, t

SHANGHAI = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    """The one clock read per callback; tests replace the importing module's ``utcnow``."""
    return datetime.now(UTC)


def local(dt: datetime) -> datetime:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)  # naive values from the database are UTC by convention
    return dt.astimezone(SHANGHAI)


def fmt_dt(dt: datetime | None, *, seconds: bool = False) -> str:
    if dt is None:
        return "—"
    return local(dt).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def fmt_time(dt: datetime) -> str:
    return local(dt).strftime("%H:%M:%S")


def fmt_recent(dt: datetime, now: datetime) -> str:
    """Time of day for today's events, month-day and time for older ones (a list spanning midnight)."""
    when = local(dt)
    return when.strftime("%H:%M:%S") if when.date() == local(now).date() else when.strftime("%m-%d %H:%M")


def start_of_local_day(now: datetime) -> datetime:
    """Midnight in Shanghai of ``now``'s local date, as an aware datetime (for 'today' counts)."""
    day = local(now)
    return day.replace(hour=0, minute=0, second=0, microsecond=0)


def fmt_duration(delta: timedelta, lang: Lang) -> str:
    minutes = int(abs(delta).total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = []
    if days:
        parts.append(t("time.days", lang, n=days))
    if hours:
        parts.append(t("time.hours", lang, n=hours))
    if not days:
        parts.append(t("time.minutes", lang, n=mins))
    return ("" if lang == "zh" else " ").join(parts)


def remaining(deadline: datetime | None, now: datetime, lang: Lang) -> tuple[str, bool]:
    """('剩余 1小时5分', False) or ('已超时 10分', True); ('—', False) without a deadline."""
    if deadline is None:
        return "—", False
    delta = deadline - now
    if is_overdue(deadline, now):
        return t("time.overdue", lang, d=fmt_duration(delta, lang)), True
    return t("time.remaining", lang, d=fmt_duration(delta, lang)), False
