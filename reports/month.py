"""A calendar month in the city's time zone: what a monthly report covers.

A month starts at 00:00 Asia/Shanghai on its first day, whatever the server's zone;
``start`` and ``end`` are aware instants for SQL over ``timestamptz`` columns and
``first_day``/``next_first_day`` are the dates for columns that store a Shanghai day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from i18n.labels import Lang
from i18n.timefmt import SHANGHAI, local

_PATTERN = re.compile(r"(\d{4})-(\d{1,2})")
_EN_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
              "November", "December")


@dataclass(frozen=True, slots=True, order=True)
class Month:
    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12 or not 2000 <= self.year <= 9998:
            raise ValueError(f"no such month: {self.year}-{self.month}")

    @classmethod
    def parse(cls, text: str) -> Month:
        """``2026-11`` → Month(2026, 11); anything else raises ``ValueError``."""
        match = _PATTERN.fullmatch(text.strip())
        if match is None:
            raise ValueError(f"a month is written YYYY-MM, got {text!r}")
        return cls(int(match[1]), int(match[2]))

    @classmethod
    def of(cls, instant: datetime) -> Month:
        """The Shanghai calendar month that contains ``instant``."""
        day = local(instant)
        return cls(day.year, day.month)

    @property
    def key(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def next_first_day(self) -> date:
        return self.next().first_day

    @property
    def days(self) -> int:
        return (self.next_first_day - self.first_day).days

    @property
    def start(self) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=SHANGHAI)

    @property
    def end(self) -> datetime:
        """The first instant after the month (exclusive bound)."""
        return self.next().start

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> Month:
        return Month(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    def label(self, lang: Lang) -> str:
        return f"{self.year}年{self.month}月" if lang == "zh" else f"{_EN_MONTHS[self.month - 1]} {self.year}"


def recent_months(now: datetime, count: int) -> list[Month]:
    """The month of ``now`` and the ``count - 1`` before it, newest first."""
    months = [Month.of(now)]
    while len(months) < count:
        months.append(months[-1].previous())
    return months
