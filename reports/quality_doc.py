"""数据质量月报 as a Word document: the computed report in, ``.docx`` bytes out. Pure.

Layout: title and period; 一 overview (a paragraph with the headline numbers and their
change on the previous month, a table of the same, the daily chart); 二 by source;
三 rejects by reason; 四 the devices that missed most readings; 五 dead-letter examples;
notes saying how each figure is counted.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import Any

from docx.document import Document as DocumentObject
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm

from i18n.labels import Lang
from i18n.numbers import fmt_change, fmt_int, fmt_points, fmt_rate
from i18n.texts import DEAD_REASON, DEPT, DEVICE_TYPE, label
from i18n.timefmt import fmt_dt
from ingest.counters import BAD_TOPIC_SOURCE, LATE_AFTER, STATUS_SOURCE
from ingest.health import ONLINE_FACTOR
from reports import docx_kit
from reports.quality_figures import WORST_DEVICES, QualityReport
from reports.texts import TEXTS, rt
from store.privacy import payload_preview

PAYLOAD_CHARS = 60  # of a dead letter's payload, in the examples table
CHART_WIDTH_CM = 16.0


def title(report: QualityReport, lang: Lang) -> str:
    return rt("q.title", lang, city=rt("city", lang), month=report.month.label(lang))


def filename(report: QualityReport, lang: Lang) -> str:
    return rt("q.filename", lang, month=report.month.key)


def source_label(row: Any, lang: Lang) -> str:
    """气象 · 雨量站 for a device feed, 政务服务（12345） · hotline12345 for an event system."""
    if row.source == STATUS_SOURCE.name:
        return rt("q.source.status", lang)
    if row.source == BAD_TOPIC_SOURCE.name:
        return rt("q.source.bad_topic", lang)
    if row.kind == "telemetry":
        return f"{label(DEPT, row.dept, lang)} · {label(DEVICE_TYPE, row.device_type, lang)}"
    return f"{label(DEPT, row.dept, lang)} · {row.source}" if row.dept else row.source


def kind_label(kind: str, lang: Lang) -> str:
    key = f"q.kind.{kind}"
    return rt(key, lang) if key in TEXTS else kind


def _period(report: QualityReport, lang: Lang) -> str:
    start = report.month.first_day.isoformat()
    if report.as_of_end:
        end = (report.month.next_first_day - timedelta(days=1)).isoformat()
        return rt("q.period", lang, start=start, end=end)
    return rt("q.period_running", lang, start=start, end=fmt_dt(report.figures.as_of))


def summary_text(report: QualityReport, lang: Lang) -> str:
    now, change = report.totals, report.changes

    def vs(value: float | None, points: bool = False) -> str:  # nothing when there is nothing to compare with
        if value is None:
            return ""
        return rt("q.change", lang, change=fmt_points(value, lang) if points else fmt_change(value))

    when = rt("q.when_end", lang) if report.as_of_end else rt("q.when_at", lang, at=fmt_dt(report.figures.as_of))
    return rt(
        "q.summary", lang, month=report.month.label(lang),
        received=fmt_int(now.received), received_change=vs(change.received),
        stored=fmt_int(now.stored), stored_change=vs(change.stored),
        rejected=fmt_int(now.rejected), reject_rate=fmt_rate(now.reject_rate),
        reject_change=vs(change.reject_rate, points=True),
        late=fmt_int(now.late), late_rate=fmt_rate(now.late_rate), late_change=vs(change.late_rate, points=True),
        duplicates=fmt_int(now.duplicates), when=when, devices=fmt_int(now.devices), online=fmt_int(now.online),
        online_rate=fmt_rate(now.online_rate), online_change=vs(change.online_rate, points=True),
    )


def kpi_rows(report: QualityReport, lang: Lang) -> list[list[str]]:
    """Measure, this month, last month, change: counts with a relative change, rates in points."""
    now, before, change = report.totals, report.previous, report.changes

    def counts(attr: str) -> list[str]:
        return [rt(f"q.kpi.{attr}", lang), fmt_int(getattr(now, attr)), fmt_int(getattr(before, attr)),
                fmt_change(getattr(change, attr))]

    def rates(attr: str) -> list[str]:
        return [rt(f"q.kpi.{attr}", lang), fmt_rate(getattr(now, attr)), fmt_rate(getattr(before, attr)),
                fmt_points(getattr(change, attr), lang)]

    return [counts("received"), counts("stored"), counts("rejected"), rates("reject_rate"), counts("late"),
            rates("late_rate"), counts("duplicates"), counts("devices"), rates("online_rate")]


def source_rows(report: QualityReport, lang: Lang) -> list[list[str]]:
    return [[source_label(r, lang), kind_label(r.kind, lang), fmt_int(r.received), fmt_int(r.stored),
             fmt_int(r.duplicates), fmt_int(r.rejected_n), fmt_rate(r.reject_rate), fmt_int(r.late),
             fmt_rate(r.late_rate)] for r in report.sources.itertuples()]


def reason_rows(report: QualityReport, lang: Lang) -> list[list[str]]:
    return [[label(DEAD_REASON, r.reason, lang), r.reason, fmt_int(r.n), fmt_rate(r.share)]
            for r in report.reasons.itertuples()]


def device_rows(report: QualityReport, lang: Lang) -> list[list[str]]:
    return [[r.device_id, r.name, label(DEVICE_TYPE, r.device_type, lang), r.township or r.township_code or "—",
             fmt_int(r.expected), fmt_int(r.reports), fmt_int(r.missing), fmt_rate(r.completeness),
             fmt_int(r.silent_hours)] for r in report.worst.itertuples()]


def dead_rows(report: QualityReport, lang: Lang) -> list[list[str]]:
    return [[fmt_dt(r.received_at, seconds=True), label(DEAD_REASON, r.reason, lang), r.topic, r.detail or "—",
             payload_preview(r.head, r.size, PAYLOAD_CHARS)] for r in report.examples.itertuples()]


def _section(doc: DocumentObject, heading: str, rows: list[list[str]], empty: str, headers: list[str],
             numeric_from: int | None, widths_cm: list[float]) -> None:
    doc.add_heading(heading, level=1)
    if rows:
        docx_kit.add_table(doc, headers, rows, numeric_from=numeric_from, widths_cm=widths_cm)
    else:
        doc.add_paragraph(empty)


def build(report: QualityReport, lang: Lang, chart_png: bytes, generated_at: datetime) -> bytes:
    """The report as ``.docx`` bytes; ``chart_png`` is the daily chart (``quality_chart.daily_chart``)."""
    doc = docx_kit.new_document(lang, title(report, lang))
    doc.add_paragraph(title(report, lang), style="Title")
    docx_kit.centred(doc, _period(report, lang))
    docx_kit.centred(doc, rt("q.generated", lang, at=fmt_dt(generated_at)))

    doc.add_heading(rt("q.h.summary", lang), level=1)
    doc.add_paragraph(summary_text(report, lang))
    if report.previous.empty:
        doc.add_paragraph(rt("q.no_previous", lang))
    docx_kit.add_table(doc, [rt(k, lang) for k in ("q.col.measure", "q.col.this", "q.col.previous", "q.col.change")],
                       kpi_rows(report, lang), numeric_from=1, widths_cm=[5.5, 3.5, 3.5, 3.5])
    doc.add_picture(io.BytesIO(chart_png), width=Cm(CHART_WIDTH_CM))
    doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
    docx_kit.centred(doc, rt("q.chart.caption", lang), style="Caption")

    _section(doc, rt("q.h.sources", lang), source_rows(report, lang), rt("q.no_sources", lang),
             [rt(f"q.col.{k}", lang) for k in ("source", "kind", "received", "stored", "duplicates", "rejected",
                                               "reject_rate", "late", "late_rate")],
             2, [3.6, 1.6, 1.6, 1.6, 1.4, 1.4, 1.4, 1.4, 1.4])
    _section(doc, rt("q.h.reasons", lang), reason_rows(report, lang), rt("q.no_rejects", lang),
             [rt(f"q.col.{k}", lang) for k in ("reason", "code", "count", "share")], 2, [5.0, 4.0, 3.0, 3.0])

    doc.add_heading(rt("q.h.devices", lang, n=WORST_DEVICES), level=1)
    if len(report.figures.devices):
        reporting = report.reporting
        doc.add_paragraph(rt("q.devices_intro", lang, expected=fmt_int(reporting.expected),
                             received=fmt_int(reporting.received), rate=fmt_rate(reporting.completeness)))
        rows = device_rows(report, lang)
        if rows:
            docx_kit.add_table(doc, [rt(f"q.col.{k}", lang) for k in (
                "device", "name", "device_type", "township", "expected", "reports", "missing", "completeness",
                "silent_hours")], rows, numeric_from=4, widths_cm=[2.6, 3.0, 1.6, 2.2, 1.5, 1.5, 1.5, 1.3, 1.4])
        else:
            doc.add_paragraph(rt("q.no_missing", lang))
    else:
        doc.add_paragraph(rt("q.no_devices", lang))

    doc.add_heading(rt("q.h.dead", lang), level=1)
    rows = dead_rows(report, lang)
    if rows:
        doc.add_paragraph(rt("q.dead_intro", lang))
        docx_kit.add_table(doc, [rt(f"q.col.{k}", lang) for k in ("time", "reason", "topic", "detail", "payload")],
                           rows, widths_cm=[2.6, 2.2, 4.4, 3.6, 3.8])
    else:
        doc.add_paragraph(rt("q.no_dead", lang))

    doc.add_heading(rt("q.h.notes", lang), level=2)
    for note in (rt("q.note.units", lang), rt("q.note.late", lang, minutes=int(LATE_AFTER.total_seconds() // 60)),
                 rt("q.note.online", lang, factor=ONLINE_FACTOR), rt("q.note.reporting", lang), rt("q.note.tz", lang)):
        doc.add_paragraph(note, style="List Bullet")
    return docx_kit.to_bytes(doc)
