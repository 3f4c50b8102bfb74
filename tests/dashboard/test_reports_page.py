"""The 数据质量 page's monthly-report download, called as its users would call it: a Word file of the
chosen month for leaders, command and admin; nothing for township staff, strangers or a forged month."""

from __future__ import annotations

import base64
import importlib
import io
import uuid
from types import ModuleType
from typing import TYPE_CHECKING

import dash
import psycopg
import pytest
from docx import Document
from psycopg.types.json import Jsonb

from i18n.timefmt import utcnow
from reports.month import Month
from store.users import township_username

if TYPE_CHECKING:
    from tests.fix_browser import DashCalls, LoggedIn


@pytest.fixture(scope="module")
def quality(dash_app: dash.Dash) -> ModuleType:
    return importlib.import_module("dashboard.pages.quality")


@pytest.fixture(scope="module")
def last_month_source(dashboard_dsn: str) -> str:
    """Last month's counters of a device feed of a department of its own (the database is shared)."""
    dept = "t" + uuid.uuid4().hex[:5]
    day = Month.of(utcnow()).previous().first_day
    with psycopg.connect(dashboard_dsn) as conn:
        conn.execute("INSERT INTO ingest_counters (day, source, kind, received, stored, duplicates, rejected, late)"
                     " VALUES (%s, %s, 'telemetry', 1234, 1200, 30, %s, 7)",
                     (day, f"{dept}/rain_gauge", Jsonb({"out_of_range": 4})))
    return dept


def test_the_page_offers_this_month_and_the_eleven_before(quality: ModuleType, logged_in: LoggedIn,
                                                          dash_calls: DashCalls) -> None:
    this = Month.of(utcnow())
    with logged_in("lingdao"):
        page = quality.layout()
    picker = dash_calls.find(page, "dq-report-month")
    assert [o["value"] for o in picker.options][:2] == [this.key, this.previous().key]
    assert len(picker.options) == 12 and picker.value == this.previous().key  # last month: a finished one
    assert picker.options[0]["label"] == f"{this.label('zh')}（本月，截至目前）"
    assert "下载月报（Word）" in dash_calls.text_of(page)


def test_a_leader_downloads_last_months_report(quality: ModuleType, logged_in: LoggedIn,
                                               last_month_source: str) -> None:
    month = Month.of(utcnow()).previous()
    with logged_in("lingdao"):
        download, msg = quality.callbacks.download_report(1, month.key)
    assert msg is None and download["filename"] == f"数据质量月报_{month.key}.docx"
    doc = Document(io.BytesIO(base64.b64decode(download["content"])))
    assert doc.paragraphs[0].text == f"郴州市一网统管 数据质量月报 {month.label('zh')}"
    sources = [[c.text for c in row.cells] for row in doc.tables[1].rows]
    assert [last_month_source + " · 雨量站", "设备数据", "1,234", "1,200", "30", "4", "0.32%", "7", "0.58%"] in sources


def test_command_and_admin_get_it_in_english_too(quality: ModuleType, logged_in: LoggedIn) -> None:
    this = Month.of(utcnow())
    for user in ("zhihui", "admin"):
        with logged_in(user, lang="en"):
            download, _ = quality.callbacks.download_report(1, this.key)
        assert download["filename"] == f"data-quality-report_{this.key}.docx"
        doc = Document(io.BytesIO(base64.b64decode(download["content"])))
        assert "(Beijing time; the month is not over)" in doc.paragraphs[1].text


def test_no_report_for_others_or_a_forged_month(quality: ModuleType, logged_in: LoggedIn, dash_calls: DashCalls,
                                                dashboard_dsn: str) -> None:
    month = Month.of(utcnow()).previous().key
    with psycopg.connect(dashboard_dsn) as conn:
        township = conn.execute("SELECT township_code FROM users WHERE role = 'township' LIMIT 1").fetchone()
    assert township is not None
    for user, refusal in ((township_username(township[0]), "您的角色无权查看此页面"), (None, "请先登录")):
        with logged_in(user):
            download, msg = quality.callbacks.download_report(1, month)
        assert download is dash.no_update and refusal in dash_calls.text_of(msg)
    with logged_in("lingdao"):
        for forged in ("2019-01", "../../etc/passwd", None):
            download, msg = quality.callbacks.download_report(1, forged)
            assert download is dash.no_update and "请选择近 12 个月内的月份" in dash_calls.text_of(msg)
