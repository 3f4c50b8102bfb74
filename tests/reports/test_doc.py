"""The data-quality report's pure parts: months in Shanghai time, the numbers, and the Word document
itself, opened with python-docx and read as a leader would read it (zh and en)."""

from __future__ import annotations

import io
import logging
from datetime import UTC, date, datetime

import pandas as pd
import pytest
from docx import Document
from docx.document import Document as DocumentObject

from i18n.labels import Lang
from i18n.numbers import fmt_change, fmt_points, fmt_rate
from reports.month import Month, recent_months
from reports.quality_chart import cjk_family, daily_chart
from reports.quality_doc import build
from reports.quality_figures import QualityReport, compute
from reports.quality_reads import Fleet, QualityFigures

PNG = b"\x89PNG\r\n\x1a\n"
COUNTER_COLUMNS = ["day", "source", "kind", "dept", "device_type", "received", "stored", "duplicates", "late",
                   "rejected", "rejected_n"]
DEVICE_COLUMNS = ["device_id", "name", "dept", "device_type", "township_code", "township", "expected_interval_s",
                  "active_s", "reports", "hours"]
DEAD_COLUMNS = ["reason", "received_at", "topic", "detail", "head", "size"]
DAY = 86_400


def counters(rows: list[tuple[object, ...]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=COUNTER_COLUMNS, dtype=object)


NOVEMBER = counters([
    (date(2026, 11, 1), "qx/rain_gauge", "telemetry", "qx", "rain_gauge", 1000, 990, 5, 3, {"out_of_range": 5}, 5),
    (date(2026, 11, 2), "qx/rain_gauge", "telemetry", "qx", "rain_gauge", 1200, 1190, 0, 1,
     {"out_of_range": 2, "not_json": 1}, 3),
    (date(2026, 11, 2), "hotline12345", "event", "zw", None, 300, 299, 1, 0, {}, 0),
    (date(2026, 11, 20), "(bad_topic)", "bad_topic", None, None, 4, 0, 0, 0, {"bad_topic": 4}, 4),
])
OCTOBER = counters([
    (date(2026, 10, 31), "qx/rain_gauge", "telemetry", "qx", "rain_gauge", 1000, 990, 5, 3, {"out_of_range": 5}, 5),
])
DEVICES = pd.DataFrame([
    ("rain-1", "一号雨量站", "qx", "rain_gauge", "431002001", "北湖街道", 60, 30 * DAY, 40_000, 700),
    ("gas-1", "一号燃气监测点", "yj", "gas_detector", "431002001", "北湖街道", 60, 30 * DAY, 0, 0),
    ("rain-2", "二号雨量站", "qx", "rain_gauge", "431002002", None, 60, 15 * DAY, 21_600, 360),
    ("river-1", "一号水位站", "sl", "river_gauge", "431002002", None, 7200, 30 * DAY, 300, 300),
], columns=DEVICE_COLUMNS, dtype=object)
DEAD = pd.DataFrame([
    ("not_json", datetime(2026, 11, 2, 3, 4, 5, tzinfo=UTC), "city/chenzhou/telemetry/qx/rain_gauge/rain-1",
     "Expecting value", b"\x00garbage\x01\xff", 2000),
    ("out_of_range", datetime(2026, 11, 30, 15, 59, 59, tzinfo=UTC), "city/chenzhou/telemetry/qx/rain_gauge/rain-2",
     "rain_mm=-5 outside [0, 300]", b'{"values": {"rain_mm": -5}}', 27),
], columns=DEAD_COLUMNS, dtype=object)


def figures(previous: pd.DataFrame = OCTOBER) -> QualityFigures:
    month = Month(2026, 11)
    return QualityFigures(month, month.end, NOVEMBER, DEVICES, DEAD, Fleet(10, 9), previous, Fleet(8, 6))


def document(report: QualityReport, lang: Lang = "zh") -> DocumentObject:
    content = build(report, lang, daily_chart(report.daily, 30, lang, cjk_family()),
                    datetime(2026, 12, 1, 1, 0, tzinfo=UTC))
    return Document(io.BytesIO(content))


def rows(doc: DocumentObject, table: int) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for row in doc.tables[table].rows]


def paragraphs(doc: DocumentObject) -> list[str]:
    return [p.text for p in doc.paragraphs]


# -- months --

def test_a_month_starts_at_midnight_in_shanghai() -> None:
    november = Month.parse("2026-11")
    assert november.start == datetime(2026, 10, 31, 16, 0, tzinfo=UTC)
    assert november.end == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    assert (november.first_day, november.next_first_day, november.days) == (date(2026, 11, 1), date(2026, 12, 1), 30)
    assert Month.of(datetime(2026, 10, 31, 16, 0, tzinfo=UTC)) == november  # 00:00 on 1 Nov in Shanghai
    assert Month.of(datetime(2026, 10, 31, 15, 59, 59, tzinfo=UTC)) == Month(2026, 10)
    assert Month(2026, 1).previous() == Month(2025, 12) and Month(2026, 12).next() == Month(2027, 1)
    assert (november.label("zh"), november.label("en"), november.key) == ("2026年11月", "November 2026", "2026-11")
    assert [m.key for m in recent_months(datetime(2026, 2, 1, tzinfo=UTC), 3)] == ["2026-02", "2026-01", "2025-12"]
    for bad in ("2026-13", "2026/11", "11-2026", "2026-00"):
        with pytest.raises(ValueError):
            Month.parse(bad)


def test_numbers_are_printed_the_chinese_way() -> None:
    assert [fmt_rate(v) for v in (None, 0, 0.004, 0.27, 2.5, 100)] == ["—", "0.0%", "<0.01%", "0.27%", "2.5%",
                                                                         "100.0%"]
    assert (fmt_change(3.21), fmt_change(-0.5), fmt_change(None)) == ("+3.2%", "-0.5%", "—")
    assert (fmt_points(0.25, "zh"), fmt_points(-1.0, "en")) == ("+0.25 个百分点", "-1.00 pp")


# -- figures --

def test_the_numbers_of_the_month() -> None:
    report = compute(figures())
    t = report.totals
    assert (t.received, t.stored, t.duplicates, t.rejected, t.late) == (2504, 2479, 6, 12, 4)
    assert report.changes.received == pytest.approx(150.4)
    assert report.changes.online_rate == pytest.approx(90 - 75)
    assert list(report.reasons["reason"]) == ["out_of_range", "bad_topic", "not_json"]
    assert list(report.reasons["n"]) == [7, 4, 1]
    assert list(report.sources["source"]) == ["qx/rain_gauge", "hotline12345", "(bad_topic)"]  # devices first
    assert report.sources["late_rate"].iloc[2] is None  # nothing stored: no rate, not NaN
    assert len(report.daily) == 30 and list(report.daily["received"].iloc[:3]) == [1000, 1500, 0]
    # gas-1 sent nothing, the river gauge missed 60 of 360, rain-1 3,200 of 43,200; rain-2 (registered
    # mid-month) missed none. Silent hours only for devices expected thrice an hour or more.
    assert list(report.worst["device_id"]) == ["gas-1", "river-1", "rain-1"]
    assert list(report.worst["silent_hours"]) == [720, None, 20]
    assert (report.reporting.expected, report.reporting.received) == (43_200 * 2 + 21_600 + 360, 40_000 + 21_600 + 300)
    assert list(report.examples["reason"]) == ["out_of_range", "not_json"]  # the commonest reason first


# -- the document --

def test_the_chinese_report_reads_right() -> None:
    doc = document(compute(figures()))
    text = paragraphs(doc)
    assert text[0] == "郴州市一网统管 数据质量月报 2026年11月"
    style = doc.paragraphs[0].style
    assert style is not None and style.name == "Title"
    assert "统计周期：2026-11-01 至 2026-11-30（北京时间）" in text
    summary = next(p for p in text if p.startswith("2026年11月，"))
    for part in ("接收消息 2,504 条（环比 +150.4%）", "入库数据 2,479 行",
                 "拒收 12 条，拒收率 0.48%（环比 -0.02 个百分点）", "迟到数据 4 行，迟到率 0.16%", "重复数据 6 行",
                 "截至月末，登记设备 10 台，在线 9 台，在线率 90.0%（环比 +15.00 个百分点）"):
        assert part in summary
    assert rows(doc, 0)[0] == ["指标", "本月", "上月", "环比"]
    assert rows(doc, 0)[1] == ["接收消息（条）", "2,504", "1,000", "+150.4%"]
    assert rows(doc, 0)[-1] == ["设备在线率（期末）", "90.0%", "75.0%", "+15.00 个百分点"]
    assert rows(doc, 1)[1:] == [
        ["气象 · 雨量站", "设备数据", "2,200", "2,180", "5", "8", "0.36%", "4", "0.18%"],
        ["政务服务（12345） · hotline12345", "部门事件", "300", "299", "1", "0", "0.0%", "0", "0.0%"],
        ["主题无法识别的消息", "主题错误", "4", "0", "0", "4", "100.0%", "0", "—"],
    ]
    assert rows(doc, 2)[1:] == [["数值超出量程", "out_of_range", "7", "58.3%"],
                                ["主题格式错误", "bad_topic", "4", "33.3%"], ["不是 JSON", "not_json", "1", "8.3%"]]
    assert rows(doc, 3)[1:] == [
        ["gas-1", "一号燃气监测点", "燃气监测点", "北湖街道", "43,200", "0", "43,200", "0.0%", "720"],
        ["river-1", "一号水位站", "水位站", "431002002", "360", "300", "60", "83.3%", "—"],
        ["rain-1", "一号雨量站", "雨量站", "北湖街道", "43,200", "40,000", "3,200", "92.6%", "20"],
    ]
    dead = rows(doc, 4)
    assert dead[0] == ["时间", "原因", "主题", "说明", "报文开头"]
    assert dead[1][:2] == ["2026-11-30 23:59:59", "数值超出量程"]  # Shanghai wall clock
    assert dead[2][:2] == ["2026-11-02 11:04:05", "不是 JSON"]
    assert dead[2][4] == "\ufffdgarbage\ufffd\ufffd …"  # bytes XML cannot hold shown as �; the rest cut
    pictures = doc.inline_shapes
    assert len(pictures) == 1 and pictures[0].width > 0
    assert any("迟到：数据自带时间早于入库时间 10 分钟以上" in p for p in text)


def test_the_english_report() -> None:
    doc = document(compute(figures()), "en")
    text = paragraphs(doc)
    assert text[0] == "Chenzhou City Operations: Data-Quality Report, November 2026"
    assert "2,504 messages (+150.4% on the previous month)" in text[4]
    assert rows(doc, 0)[1] == ["Messages received", "2,504", "1,000", "+150.4%"]
    assert rows(doc, 1)[1][:2] == ["Meteorology · Rain gauge", "Telemetry"]
    assert rows(doc, 2)[1][0] == "Out of range"
    assert rows(doc, 3)[0][-1] == "Silent hours"


def test_a_first_month_has_nothing_to_compare_with() -> None:
    doc = document(compute(figures(previous=counters([]))))
    text = paragraphs(doc)
    assert "上月无接收数据，消息类指标不作环比。" in text
    summary = next(p for p in text if p.startswith("2026年11月，"))
    assert "接收消息 2,504 条，入库" in summary  # no (环比 …) after the counts
    assert rows(doc, 0)[1] == ["接收消息（条）", "2,504", "0", "—"]


def test_an_empty_month_still_makes_a_document() -> None:
    month = Month(2026, 11)
    empty = QualityFigures(month, month.end, counters([]), DEVICES.iloc[0:0], DEAD.iloc[0:0], Fleet(0, 0),
                           counters([]), Fleet(0, 0))
    text = paragraphs(document(compute(empty)))
    for line in ("本月没有接收到任何消息。", "本月无拒收消息。", "本月无登记设备。", "本月无死信。"):
        assert line in text


def test_the_chart_is_a_png_and_speaks_english_without_a_chinese_font(caplog: pytest.LogCaptureFixture) -> None:
    daily = compute(figures()).daily
    assert cjk_family() is not None  # the project's machines have fonts-noto-cjk
    assert daily_chart(daily, 30, "zh", cjk_family()).startswith(PNG)
    with caplog.at_level(logging.WARNING, logger="cityops.reports"):
        assert daily_chart(daily, 30, "zh", None).startswith(PNG)
    assert "no Chinese font" in caplog.text
