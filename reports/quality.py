"""The monthly data-quality report from a connection: read, compute, draw, lay out."""

from __future__ import annotations

from datetime import datetime

import psycopg

from i18n.labels import Lang
from reports.month import Month
from reports.quality_chart import cjk_family, daily_chart
from reports.quality_doc import build, filename
from reports.quality_figures import compute
from reports.quality_reads import read_quality


def quality_report(conn: psycopg.Connection, month: Month, now: datetime, lang: Lang) -> tuple[bytes, str]:
    """(``.docx`` bytes, file name) of ``month``'s report as of ``now``; ``ValueError`` if the month has not begun."""
    report = compute(read_quality(conn, month, now))
    chart = daily_chart(report.daily, month.days, lang, cjk_family())
    return build(report, lang, chart, now), filename(report, lang)
