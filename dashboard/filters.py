"""The leader's filters: what the form sends, checked on the server, turned into one SQL condition.

Everything comes from the browser, so nothing is trusted: dates must parse and be in
order, codes must look like codes, levels must be 1–4. ``Filters.where()`` gives one
parameterised condition on ``incidents`` (alias ``i``) that the list, the trend, the
overdue list, the ranking and both Excel exports share, so they cannot disagree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from psycopg import sql

from i18n.refusal import Refused
from i18n.timefmt import SHANGHAI, local

MAX_DAYS = 366
DEFAULT_DAYS = 30
_DISTRICT = re.compile(r"\d{6}")
_TOWNSHIP = re.compile(r"\d{9}")
_CATEGORY = re.compile(r"[\w\-]{1,40}")
_ID = re.compile(r"#?\s*(\d{1,12})")


class BadFilter(Refused):
    """A filter value the server refuses; ``key`` names the i18n message."""


@dataclass(frozen=True, slots=True)
class Filters:
    start: date  # first local (Asia/Shanghai) day, inclusive
    end: date  # last local day, inclusive
    district: str | None = None
    township: str | None = None
    category: str | None = None
    level: int | None = None
    search: str = ""

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, datetime.min.time(), SHANGHAI)

    @property
    def end_at(self) -> datetime:
        """Midnight after the last day: the range is half-open."""
        return datetime.combine(self.end + timedelta(days=1), datetime.min.time(), SHANGHAI)

    def where(self, alias: str = "i", *, search: bool = False, dates: bool = True,
              ) -> tuple[sql.Composable, dict[str, Any]]:
        """``(condition, params)`` on incidents; params are named ``f_*`` so queries can add their own.

        The search text narrows only the list (``search=True``); ``dates=False`` drops the
        time range, for what is true *now* (overdue) whenever the incident started.
        """
        col = lambda name: sql.Identifier(alias, name)  # noqa: E731 - a two-word helper
        parts: list[sql.Composable] = [sql.SQL("true")]
        params: dict[str, Any] = {"f_start": self.start_at, "f_end": self.end_at}
        if dates:
            parts.append(sql.SQL("{} >= %(f_start)s AND {} < %(f_end)s").format(col("created_at"), col("created_at")))
        if self.township:
            parts.append(sql.SQL("{} = %(f_township)s").format(col("township_code")))
            params["f_township"] = self.township
        elif self.district:
            parts.append(sql.SQL("{} = %(f_district)s").format(col("district_code")))
            params["f_district"] = self.district
        if self.category:
            parts.append(sql.SQL("{} = %(f_category)s").format(col("category")))
            params["f_category"] = self.category
        if self.level:
            parts.append(sql.SQL("{} = %(f_level)s").format(col("level")))
            params["f_level"] = self.level
        if search and self.search:
            found = _ID.fullmatch(self.search)
            if found:
                parts.append(sql.SQL("({} = %(f_id)s OR {} ILIKE %(f_like)s)").format(col("id"), col("title")))
                params["f_id"] = int(found[1])
            else:
                parts.append(sql.SQL("{} ILIKE %(f_like)s").format(col("title")))
            params["f_like"] = "%" + _escape_like(self.search) + "%"
        return sql.SQL(" AND ").join(parts), params


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def default_range(now: datetime, days: int = DEFAULT_DAYS) -> tuple[date, date]:
    today = local(now).date()
    return today - timedelta(days=days - 1), today


def _day(raw: object, fallback: date) -> date:
    if raw in (None, ""):
        return fallback
    if not isinstance(raw, str):
        raise BadFilter("err.date_format")
    try:
        return date.fromisoformat(raw[:10])  # a DatePicker may send a full ISO datetime
    except ValueError:
        raise BadFilter("err.date_format") from None


def _code(raw: object, pattern: re.Pattern[str]) -> str | None:
    if raw in (None, ""):
        return None
    if not isinstance(raw, str) or not pattern.fullmatch(raw):
        raise BadFilter("err.bad_area")
    return raw


def parse(now: datetime, *, start: object = None, end: object = None, district: object = None,
          township: object = None, category: object = None, level: object = None,
          search: object = None) -> Filters:
    """The form's raw values as ``Filters``; raises ``BadFilter`` naming the first problem."""
    first, last = default_range(now)
    start_d, end_d = _day(start, first), _day(end, last)
    if start_d > end_d:
        raise BadFilter("err.date_order")
    if (end_d - start_d).days >= MAX_DAYS:
        raise BadFilter("err.date_span")
    if category not in (None, "") and (not isinstance(category, str) or not _CATEGORY.fullmatch(category)):
        raise BadFilter("err.bad_category")
    lvl: int | None = None
    if level not in (None, ""):
        try:
            lvl = int(str(level))
        except ValueError:
            raise BadFilter("err.bad_level") from None
        if not 1 <= lvl <= 4:
            raise BadFilter("err.bad_level")
    town = _code(township, _TOWNSHIP)
    dist = _code(district, _DISTRICT)
    if town and dist and not town.startswith(dist):
        town = None  # a township left over from the previous district: the district wins
    text = search.strip()[:100] if isinstance(search, str) else ""
    return Filters(start_d, end_d, dist, town, category or None, lvl, text)
