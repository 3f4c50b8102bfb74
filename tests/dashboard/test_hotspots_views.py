"""The hotspot parts of the pages as components (their views are pure; the page modules load under the session's
app): the incident page's ticket list and the leader's ranking in both languages, a ticket's outcome as the page
words it, and nothing for an incident that is no hotspot."""

from __future__ import annotations

import importlib
import json
from datetime import UTC, datetime
from types import ModuleType

import dash
import pandas as pd
import pytest
from plotly.utils import PlotlyJSONEncoder

from i18n.labels import Lang
from store.privacy import Reporter

T0 = datetime(2026, 6, 1, 2, tzinfo=UTC)


@pytest.fixture(scope="module")
def incident(dash_app: dash.Dash) -> ModuleType:
    return importlib.import_module("dashboard.pages.incident")


@pytest.fixture(scope="module")
def leader(dash_app: dash.Dash) -> ModuleType:
    return importlib.import_module("dashboard.pages.leader")


NAMES = {"431002001": "人民路街道", "431002001001": "人民路街道第1网格", "431002": "北湖区"}


def record(incident: ModuleType, *tickets: object) -> object:
    facts = incident.load.Facts(7, "主动治理·高频诉求热点 · 噪音扰民（5件）", "hotline", 4, "closed", "431002001",
                                113.0, 25.7, T0, None, None, 0, False)
    return incident.load.Record(T0, facts, pd.DataFrame(), (), NAMES, None, tickets)


def ticket(incident: ModuleType, status: str, outcome: str | None) -> object:
    return incident.load.HotspotTicket(T0, "噪音扰民", "夜间施工噪音", Reporter("王**", "139****0001"), "431002001",
                         "431002001001", 113.0, 25.7, status, outcome)


def text(components: object) -> str:
    return json.dumps(components, cls=PlotlyJSONEncoder, ensure_ascii=False)


@pytest.mark.parametrize(("lang", "words"), [
    ("zh", ["主动治理 · 本热点的 12345 工单（2 件）", "诉求内容", "办理结果", "噪音扰民",
            "人民路街道 · 人民路街道第1网格", "已加装隔音屏障", "办理中（处置中）", "王** 139****0001"]),
    ("en", ["Proactive governance: this hotspot's 12345 tickets (2)", "Complaint", "Outcome", "Noise",
            "已加装隔音屏障", "Open (In progress)"]),
])
def test_the_ticket_list_in_both_languages(incident: ModuleType, lang: Lang, words: list[str]) -> None:
    tickets = ticket(incident, "closed", "已加装隔音屏障"), ticket(incident, "in_progress", None)
    shown = text(incident.views.hotspot_section(record(incident, *tickets), lang))
    for word in words:
        assert word in shown, word


def test_no_list_for_an_incident_that_is_no_hotspot(incident: ModuleType) -> None:
    assert incident.views.hotspot_section(record(incident), "zh") == []


@pytest.mark.parametrize(("lang", "words"), [("zh", ["按诉求类别", "按镇街", "热点数", "工单数", "占道经营", "北湖区"]),
                                             ("en", ["By kind of complaint", "By township", "Hotspots", "Tickets",
                                                     "Street vending", "北湖区"])])
def test_the_leaders_ranking_in_both_languages(leader: ModuleType, lang: Lang, words: list[str]) -> None:
    kinds = pd.DataFrame({"complaint": ["占道经营", "噪音扰民"], "hotspots": [3, 1], "tickets": [17, 6],
                          "closed": [1, 0]})
    areas = pd.DataFrame({"township_code": ["431002001"], "district_code": ["431002"], "hotspots": [4],
                          "tickets": [23], "closed": [1]})
    shown = text(leader.views.hotspot_panel(leader.load.Hotspots(kinds, areas, NAMES), lang))
    for word in words:
        assert word in shown, word
    assert "没有" not in shown and "No hotspot" not in shown
    empty = text(leader.views.hotspot_panel(leader.load.Hotspots(kinds.iloc[0:0], areas.iloc[0:0], NAMES), lang))
    assert ("本期无热点" if lang == "zh" else "No hotspot in the period") in empty
