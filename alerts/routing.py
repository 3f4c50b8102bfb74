"""Who is responsible: the responsibility table by area × category × asset owner, pure.

The most specific row wins: the longest area code that contains the point, then an
exact category over ``*``, then an exact asset owner over ``*``. Without a row, the
township that contains the point is responsible (属地管理).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol


class Located(Protocol):
    @property
    def district_code(self) -> str | None: ...
    @property
    def township_code(self) -> str | None: ...
    @property
    def grid_code(self) -> str | None: ...


Row = tuple[str, str, str, str]  # area_code, category, asset_owner, unit_code


def route(rows: Iterable[Row], where: Located, category: str, asset_owner: str = "*") -> str | None:
    finest = where.grid_code or where.township_code or where.district_code or ""
    best: tuple[int, int, int] | None = None
    unit = None
    for area, row_category, owner, row_unit in sorted(rows):  # sorted: ties resolve the same way every time
        if not finest.startswith(area) or row_category not in ("*", category) or owner not in ("*", asset_owner):
            continue
        rank = (len(area), row_category != "*", owner != "*")
        if best is None or rank > best:
            best, unit = rank, row_unit
    return unit or where.township_code
