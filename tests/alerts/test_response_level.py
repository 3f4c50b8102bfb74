"""应急响应 (issue 12): a response level (Ⅳ级 → Ⅰ级) declared, changed and lifted by the command center for the
city or a district, each time as a directive to the townships it covers. Pure rules, then on PostgreSQL: the
rows, the directive and its log, the refusals, and what is in force where."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from alerts.directives import (
    DirectiveError,
    Response,
    declare_response,
    effective,
    response_change,
    response_title,
    responses,
)
from alerts.lifecycle import Actor, Role
from tests.fix_db import one

NOW = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
COMMAND = Actor("zhihui", Role.COMMAND)


@pytest.mark.parametrize(("current", "wanted", "change"), [
    (None, 4, "declare"), (4, 3, "raise"), (3, 1, "raise"), (2, 4, "lower"), (1, None, "lift"),
])
def test_what_a_declaration_does(current: int | None, wanted: int | None, change: str) -> None:
    assert response_change(current, wanted) == change


@pytest.mark.parametrize(("current", "wanted", "code"), [
    (3, 3, "response_same"), (None, None, "response_none"), (None, 0, "response_level"), (2, 5, "response_level"),
])
def test_what_a_declaration_may_not_do(current: int | None, wanted: int | None, code: str) -> None:
    with pytest.raises(DirectiveError) as refused:
        response_change(current, wanted)
    assert refused.value.code == code


def test_the_directive_says_what_changed_where() -> None:
    assert response_title("declare", 4, "全市") == "全市启动Ⅳ级应急响应"
    assert response_title("raise", 2, "岳塘区") == "岳塘区提升至Ⅱ级应急响应"
    assert response_title("lower", 3, "全市") == "全市调整为Ⅲ级应急响应"
    assert response_title("lift", None, "全市") == "全市解除应急响应"


def _r(district: str | None, level: int) -> Response:
    return Response(district, level, "", "zhihui", NOW, 1)


def test_a_district_is_under_the_higher_of_the_citys_level_and_its_own() -> None:
    city, own = _r(None, 4), _r("430302", 2)
    assert effective({None: city, "430302": own}, "430302") == own  # Ⅱ级 is higher than Ⅳ级
    assert effective({None: _r(None, 1), "430302": own}, "430302") == _r(None, 1)
    assert effective({None: city, "430302": own}, "430304") == city  # another district: the city's
    assert effective({"430302": own}, "430304") is None
    assert effective({None: city, "430302": own}, None) == city  # the city's screen, as a whole


def _townships(conn: psycopg.Connection, district: str | None = None) -> list[str]:
    return [r[0] for r in conn.execute(
        "SELECT code FROM regions r JOIN boundary_versions b USING (version) WHERE b.active AND r.level = 'township'"
        " AND (%(d)s::text IS NULL OR parent_code = %(d)s) ORDER BY code", {"d": district})]


def test_declared_changed_and_lifted_each_as_a_directive(demo_db: Callable[[], str]) -> None:
    with psycopg.connect(demo_db(), autocommit=True) as conn:
        everywhere = _townships(conn)
        district = everywhere[0][:6]
        mine = _townships(conn, district)
        city_id = declare_response(conn, level=4, district=None, scope_name="全市", townships=everywhere,
                                   note="台风“梅花”登陆", actor=COMMAND, now=NOW)
        own_id = declare_response(conn, level=3, district=district, scope_name="岳塘区", townships=mine, note="",
                                  actor=COMMAND, now=NOW + timedelta(minutes=5))
        found = responses(conn)
        assert {k: (r.level, r.directive_id) for k, r in found.items()} == {None: (4, city_id), district: (3, own_id)}
        assert found[None].note == "台风“梅花”登陆"
        title, body, targets = one(conn, "SELECT title, body, (SELECT array_agg(township_code ORDER BY township_code)"
                                         " FROM directive_targets WHERE directive_id = d.id) FROM directives d"
                                         " WHERE id = %s", (city_id,))
        assert (title, body, targets) == ("全市启动Ⅳ级应急响应", "台风“梅花”登陆", everywhere)
        assert one(conn, "SELECT array_agg(township_code ORDER BY township_code) FROM directive_targets"
                         " WHERE directive_id = %s", (own_id,))[0] == mine
        assert one(conn, "SELECT count(*) FROM mqtt_outbox WHERE topic LIKE 'directive/%%'"
                         " AND (payload->>'directive_id')::bigint = %s", (own_id,))[0] == len(mine)

        with pytest.raises(DirectiveError) as same:  # the level in force already: nothing sent
            declare_response(conn, level=3, district=district, scope_name="岳塘区", townships=mine, note="",
                             actor=COMMAND, now=NOW + timedelta(minutes=6))
        assert same.value.code == "response_same"
        with pytest.raises(DirectiveError) as role:
            declare_response(conn, level=1, district=None, scope_name="全市", townships=everywhere, note="",
                             actor=Actor("qx" + district, Role.DISTRICT, district_code=district), now=NOW)
        assert role.value.code == "wrong_role"

        raised = declare_response(conn, level=1, district=None, scope_name="全市", townships=everywhere, note="",
                                  actor=COMMAND, now=NOW + timedelta(minutes=10))
        assert one(conn, "SELECT title FROM directives WHERE id = %s", (raised,))[0] == "全市提升至Ⅰ级应急响应"
        assert effective(responses(conn), district) == responses(conn)[None]  # the city's Ⅰ级 is the higher now
        lifted = declare_response(conn, level=None, district=None, scope_name="全市", townships=everywhere, note="",
                                  actor=COMMAND, now=NOW + timedelta(hours=6))
        assert one(conn, "SELECT title FROM directives WHERE id = %s", (lifted,))[0] == "全市解除应急响应"
        assert {k: r.level for k, r in responses(conn).items()} == {district: 3}  # the district's own stays
        with pytest.raises(DirectiveError) as nothing:
            declare_response(conn, level=None, district=None, scope_name="全市", townships=everywhere, note="",
                             actor=COMMAND, now=NOW + timedelta(hours=7))
        assert nothing.value.code == "response_none"

        log = [(r[0], r[1]) for r in conn.execute(
            "SELECT action, note FROM directive_log WHERE action LIKE 'response%%' ORDER BY id")]
        assert log == [("response_declare", "Ⅳ"), ("response_declare", "Ⅲ"), ("response_raise", "Ⅰ"),
                       ("response_lift", "")]
        with pytest.raises(psycopg.errors.InsufficientPrivilege):  # who declared what, when: never rewritten
            conn.execute("UPDATE response_levels SET level = 2")
