"""The ids of the 数据质量 page's components, each declared once."""

from __future__ import annotations

from enum import StrEnum


class Ids(StrEnum):
    BODY = "dq-body"
    TICK = "dq-tick"
    UPDATED = "dq-updated"
    ONLINE_TABLE = "dq-online-table"
    ONLINE_CHART = "dq-online-chart"
    DAYS_CHART = "dq-days-chart"
    DEAD_REASONS = "dq-dead-reasons"
    DEAD_LATEST = "dq-dead-latest"
    REPORT_MONTH = "dq-report-month"
    REPORT = "dq-report"
    REPORT_MSG = "dq-report-msg"
    DOWNLOAD = "dq-download"
