"""The ids of the 领导驾驶舱's components, each declared once."""

from __future__ import annotations

from enum import StrEnum


class Ids(StrEnum):
    QUICK = "ld-quick"
    START = "ld-start"
    END = "ld-end"
    DISTRICT = "ld-district"
    TOWNSHIP = "ld-township"
    CATEGORY = "ld-category"
    LEVEL = "ld-level"
    SEARCH = "ld-search"
    MSG = "ld-msg"
    KPIS = "ld-kpis"
    TREND = "ld-trend"
    OVERDUE = "ld-overdue"
    OVERDUE_TABLE = "ld-overdue-table"
    RANKING = "ld-ranking"
    RANKING_TABLE = "ld-ranking-table"
    HOTSPOTS = "ld-hotspots"  # 12345 hotspots ranked by kind of complaint and by township
    HOTSPOT_KINDS = "ld-hotspot-kinds"
    HOTSPOT_AREAS = "ld-hotspot-areas"
    LIST = "ld-list"
    LIST_TABLE = "ld-list-table"
    COUNT = "ld-count"
    EXPORT_LIST = "ld-export-list"
    EXPORT_RANKING = "ld-export-ranking"
    DOWNLOAD = "ld-download"
    PANEL = "ld-panel"
    PANEL_TITLE = "ld-panel-title"
    PANEL_BODY = "ld-panel-body"
    PANEL_CLOSE = "ld-panel-close"
    TIMELINE_BOX = "ld-timeline-box"
    TIMELINE = "ld-timeline"
    OPEN = "ld-open"  # pattern-matching type; index = incident id
