"""The ids of the incident page's components, each declared once (the log table's is ``widgets.WidgetIds.LOG``)."""

from __future__ import annotations

from enum import StrEnum


class Ids(StrEnum):
    TIMELINE = "incident-timeline"
    PHOTOS = "incident-photos"
    TICKETS = "incident-tickets"  # a 12345 hotspot's tickets (主动治理)
    REPORTS = "incident-reports"  # the units' reports: 处置进展, 处置反馈, 协办
    NUMBER = "incident-number"  # the incident's id, for the export (checked again on the server)
    EXPORT = "incident-export"
    DOWNLOAD = "incident-download"
