"""The ids of the 考核 page's components, each declared once."""

from __future__ import annotations

from enum import StrEnum


class Ids(StrEnum):
    PERIOD = "as-period"
    KIND = "as-kind"
    CATEGORY = "as-category"
    LEVEL = "as-level"
    MSG = "as-msg"
    TABLE = "as-table"
    DRILL = "as-drill"  # the incidents behind the figure clicked
    DRILL_BODY = "as-drill-body"
    DRILL_CHOSEN = "as-drill-chosen"  # {"unit": code, "figure": name}
    EXPORT = "as-export"
    EXPORT_DRILL = "as-export-drill"
    DOWNLOAD = "as-download"
    # pattern-matching: a figure's cell, {"type": CELL, "unit": code, "figure": name, "column": its column}
    CELL = "as-cell"
