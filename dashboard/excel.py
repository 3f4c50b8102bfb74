"""Excel files leaders ask for: a table with a title, the filters it was made with, and when.

Pure: rows in, ``.xlsx`` bytes out (openpyxl, write-only, so 50,000 rows stay cheap).
Times are written as Shanghai wall-clock ``datetime`` cells with a date format, so
Excel sorts and filters them as dates, not as text.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from i18n.timefmt import local

DATE_FORMAT = "yyyy-mm-dd hh:mm"
_HEADER_FILL = PatternFill("solid", fgColor="DCE6F1")
# Cells that would start a formula are written as text: a title typed by a citizen is not code.
_FORMULA_START = ("=", "+", "-", "@")


@dataclass(frozen=True, slots=True)
class Sheet:
    title: str  # the sheet's tab (at most 31 characters, no []:*?/\)
    heading: str  # first row, bold
    notes: Sequence[str]  # lines under the heading: filters, export time
    columns: Sequence[tuple[str, float]]  # header text and column width
    rows: Sequence[Sequence[Any]]


def _value(value: Any) -> Any:
    if isinstance(value, datetime):
        return local(value).replace(tzinfo=None)  # Excel has no time zones: Shanghai wall clock
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _write(ws: Worksheet, sheet: Sheet) -> None:
    for i, (_, width) in enumerate(sheet.columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    title = WriteOnlyCell(ws, sheet.heading)
    title.font = Font(bold=True, size=14)
    ws.append([title])
    for note in sheet.notes:
        ws.append([note])
    ws.append([])
    header = []
    for text, _ in sheet.columns:
        cell = WriteOnlyCell(ws, text)
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(vertical="center")
        header.append(cell)
    ws.append(header)
    for row in sheet.rows:
        cells = []
        for raw in row:
            value = _value(raw)
            if isinstance(value, datetime):
                cell = WriteOnlyCell(ws, value)
                cell.number_format = DATE_FORMAT
                cells.append(cell)
            else:
                cells.append(value)
        ws.append(cells)


def workbook(sheets: Sequence[Sheet]) -> bytes:
    wb = Workbook(write_only=True)
    for sheet in sheets:
        ws = wb.create_sheet(sheet.title[:31])
        header_row = 2 + len(sheet.notes) + 1
        ws.freeze_panes = f"A{header_row + 1}"  # the header stays in view while scrolling
        _write(ws, sheet)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
