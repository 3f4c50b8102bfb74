"""Pure pieces of the leader, quality and admin pages: filters, Excel, the new-user form, rule rows."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook
from psycopg import sql

from alerts.lifecycle import Role
from alerts.rules import load_rules
from dashboard import filters, rule_table, users
from dashboard.actions import InvalidInput
from dashboard.excel import Sheet, workbook
from i18n.labels import t
from i18n.numbers import fmt_int, fmt_pct

NOW = datetime(2026, 3, 31, 17, 0, tzinfo=UTC)  # 2026-04-01 01:00 in Shanghai


# -- filters --

def test_default_range_is_the_last_30_local_days() -> None:
    f = filters.parse(NOW)
    assert (f.start, f.end) == (date(2026, 3, 3), date(2026, 4, 1))  # Shanghai's date, not UTC's
    assert f.start_at.isoformat() == "2026-03-03T00:00:00+08:00"
    assert f.end_at.isoformat() == "2026-04-02T00:00:00+08:00"  # half-open: the whole last day


@pytest.mark.parametrize("kwargs, key", [
    ({"start": "2026-03-10", "end": "2026-03-01"}, "err.date_order"),
    ({"start": "2024-01-01", "end": "2026-03-01"}, "err.date_span"),
    ({"start": "31/12/2025"}, "err.date_format"),
    ({"start": 20260101}, "err.date_format"),
    ({"level": "9"}, "err.bad_level"),
    ({"level": "red"}, "err.bad_level"),
    ({"township": "4310'; DROP"}, "err.bad_area"),
    ({"district": "43"}, "err.bad_area"),
    ({"category": "a b;c"}, "err.bad_category"),
    ({"district": "431002\n"}, "err.bad_area"),  # `$` alone would let a trailing newline through
    ({"township": "431002001\n"}, "err.bad_area"),
    ({"category": "flood\n"}, "err.bad_category"),
])
def test_bad_filters_are_named(kwargs: dict[str, object], key: str) -> None:
    with pytest.raises(filters.BadFilter) as exc:
        filters.parse(NOW, **kwargs)  # type: ignore[arg-type]
    assert exc.value.key == key
    assert t(key, "zh") and t(key, "en")


def test_a_township_of_another_district_is_dropped() -> None:
    f = filters.parse(NOW, district="431002", township="431003001", level="2", search="  积水 ")
    assert (f.district, f.township, f.level, f.search) == ("431002", None, 2, "积水")
    assert filters.parse(NOW, district="431002", township="431002001").township == "431002001"


def test_where_is_parameterised_and_search_only_on_request() -> None:
    f = filters.parse(NOW, township="431002001", category="flood", level=1, search="#42")
    cond, params = f.where()
    text = cond.as_string(None) if isinstance(cond, sql.Composable) else str(cond)
    assert "%(f_township)s" in text and "%(f_category)s" in text and "%(f_level)s" in text
    assert "ILIKE" not in text and "431002001" not in text  # values travel as parameters
    searched, params = f.where(search=True)
    assert "ILIKE" in searched.as_string(None) and params["f_id"] == 42
    undated, _ = f.where(dates=False)
    assert "f_start" not in undated.as_string(None)
    _, like = filters.parse(NOW, search="100%_off").where(search=True)
    assert like["f_like"] == "%100\\%\\_off%"  # LIKE wildcards typed by the user match literally


# -- numbers the Chinese way --

def test_numbers() -> None:
    assert (fmt_int(12345), fmt_int(None), fmt_pct(85.25), fmt_pct(None)) == ("12,345", "—", "85.2%", "—")


# -- Excel --

def test_workbook_has_title_filters_header_and_local_times() -> None:
    when = datetime(2026, 1, 1, 16, 30, tzinfo=UTC)
    content = workbook([Sheet("清单", "事件清单", ["筛选条件：全部", "导出时间：2026-01-02 00:30:00"],
                              [("编号", 8), ("事件", 30), ("立案时间", 18)],
                              [[1, "=HYPERLINK(\"x\")", when], [2, "积水", None]])])
    ws = load_workbook(io.BytesIO(content))["清单"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == "事件清单" and rows[1][0] == "筛选条件：全部"
    assert rows[4] == ("编号", "事件", "立案时间")
    assert rows[5] == (1, "'=HYPERLINK(\"x\")", datetime(2026, 1, 2, 0, 30))  # text, not a formula; Shanghai time
    assert rows[6] == (2, "积水", None)
    assert ws.freeze_panes == "A6"


# -- the admin's new-user form --

TOWNS = {"431002001"}
GOOD = {"username": "wang_01", "display_name": " 王五 ", "password": "s3cret-pass", "password2": "s3cret-pass",
        "role": "township", "township": "431002001", "townships": TOWNS}


def test_a_good_user_passes() -> None:
    new = users.validate(**GOOD)  # type: ignore[arg-type]
    assert (new.username, new.display_name, new.role, new.township_code) == ("wang_01", "王五", Role.TOWNSHIP,
                                                                             "431002001")
    leader = users.validate(**(GOOD | {"role": "leader", "township": "431002001"}))  # type: ignore[arg-type]
    assert leader.township_code is None  # only township staff carry a township


@pytest.mark.parametrize("change, key", [
    ({"username": "Wang"}, "err.username"),
    ({"username": "ab"}, "err.username"),
    ({"username": "1abc"}, "err.username"),
    ({"username": None}, "err.username"),
    ({"display_name": "  "}, "err.display_name"),
    ({"display_name": "长" * 51}, "err.display_name"),
    ({"password": "short", "password2": "short"}, "err.password_short"),
    ({"password": "x" * 129, "password2": "x" * 129}, "err.password_long"),
    ({"password2": "other-pass"}, "err.password_mismatch"),
    ({"role": None}, "err.role"),
    ({"role": "system"}, "err.role"),
    ({"township": None}, "err.township_required"),
    ({"township": "999999999"}, "err.township_unknown"),
])
def test_bad_users_are_refused_with_a_reason(change: dict[str, object], key: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        users.validate(**(GOOD | change))  # type: ignore[arg-type]
    assert exc.value.key == key
    assert t(key, "zh")


# -- rules, whatever their kind --

def test_every_rule_of_the_file_has_a_row() -> None:
    rules = load_rules()
    rows = rule_table.rule_rows(rules, "zh")
    assert [r[0] for r in rows] == [r.id for r in rules]
    assert all(len(r) == 6 and r[1] and r[3] for r in rows)
    assert {r.kind for r in rules} <= set(rule_table.RULE_KIND)  # every kind has a Chinese name


def test_a_rules_levels_break_between_levels_never_inside_one() -> None:
    rows = {r[0]: r for r in rule_table.rule_rows(load_rules(), "zh")}
    english = {r[0]: r for r in rule_table.rule_rows(load_rules(), "en")}
    assert rows["heavy_rain"][4].split("，")[0] == "蓝色\u00a0IV级\u00a0≥\u00a020"  # no-break spaces inside a level
    assert english["heavy_rain"][4].startswith("Blue\u00a0(IV)\u00a0≥\u00a020, ")
    assert "；" not in english["heavy_rain"][5] and "; " in english["heavy_rain"][5]
    # 精准限速: its level over any zone's limit, and a graver one from a share over it
    assert rows["hazmat_speeding"][4] == "黄色\u00a0III级，橙色\u00a0II级\u00a0超限\u00a0≥\u00a050%"
    assert english["hazmat_speeding"][4].endswith("Orange\u00a0(II)\u00a0≥\u00a050\u00a0%\u00a0over")
