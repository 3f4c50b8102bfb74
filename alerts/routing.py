"""Who is responsible: the responsibility table by area × category × asset owner, pure.

The most specific row wins: the longest area code that contains the point, then an
exact category over ``*``, then an exact asset owner over ``*``. Without a row, the
township that contains the point is responsible (属地管理).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple, Protocol


class Located(Protocol):
    @property
    def district_code(self) -> str | None: ...
    @property
    def township_code(self) -> str | None: ...
    @property
    def grid_code(self) -> str | None: ...


class Responsibility(NamedTuple):
    """A row of the responsibility table (a tuple, so rows sort the same way every time)."""

    area_code: str
    category: str  # or "*"
    asset_owner: str  # or "*"
    unit_code: str


def route(rows: Iterable[Responsibility], where: Located, category: str, asset_owner: str = "*") -> str | None:
    finest = where.grid_code or where.township_code or where.district_code or ""
    best: tuple[int, int, int] | None = None
    unit = None
    for r in sorted(rows):  # sorted: ties resolve the same way every time
        if (not finest.startswith(r.area_code) or r.category not in ("*", category)
                or r.asset_owner not in ("*", asset_owner)):
            continue
        rank = (len(r.area_code), r.category != "*", r.asset_owner != "*")
        if best is None or rank > best:
            best, unit = rank, r.unit_code
    return unit or where.township_code
