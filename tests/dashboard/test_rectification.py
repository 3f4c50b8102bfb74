"""The 问题清单 page in the session's app: a grid's root cause closed three times lists a problem; the list and its
timeline for the desk, the owner unit's 整改报告 (another unit is told nothing), the desk's 验收退回 with its reason
and 转预警预防 with its values checked, 验收通过; the leader page lists it while open; the admin's root causes."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime, timedelta
from types import ModuleType

import dash
import psycopg
import pytest

from alerts import problems
from alerts.incidents import act
from alerts.lifecycle import Action, Actor, Role
from alerts.locate import locate
from layers.loader import load_active_layers
from store.users import township_username
from tests.fed_back import fed_back_flood
from tests.fix_browser import DashCalls, LoggedIn
from tests.fix_db import one

COMMAND = Actor("zhihui", Role.COMMAND)


@pytest.fixture(scope="module")
def page(dash_app: dash.Dash) -> ModuleType:
    return importlib.import_module("dashboard.pages.rectification")


def listed_problem(dsn: str, grid_offset: int = 0) -> tuple[int, str]:
    """Three incidents of one grid (the last district's last grid, out of the other tests' way) closed with one
    root cause: (the problem listed, its grid)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        grid, lon, lat = one(conn, "SELECT code, label_lon, label_lat FROM regions r JOIN boundary_versions v"
                                   " USING (version) WHERE v.active AND r.level = 'grid' ORDER BY code DESC"
                                   " OFFSET %s LIMIT 1", (grid_offset,))
        where = locate(lon, lat, load_active_layers(conn))
        assert where.grid_code == grid and where.township_code is not None
        cause = problems.root_causes(conn, offered_only=True)[1].id  # 排水能力不足
        t0 = datetime.now(UTC) - timedelta(days=3)
        for n in range(3):
            at = t0 + timedelta(hours=n)
            iid = fed_back_flood(conn, where, at, f"下穿通道积水{n}", note="已抽排")
            act(conn, iid, Action.VERIFY, COMMAND, at + timedelta(minutes=3), details={"root_cause": cause})
        pid = one(conn, "SELECT id FROM rectifications WHERE scope = 'grid' AND scope_code = %s"
                        " AND status <> 'accepted'", (grid,))[0]
    return int(pid), str(grid)


def test_the_loop_on_the_page_with_server_side_checks(page: ModuleType, logged_in: LoggedIn, dashboard_dsn: str,
                                                      dash_calls: DashCalls) -> None:
    pid, grid = listed_problem(dashboard_dsn)
    owner, cb = grid[:9], page.callbacks
    with logged_in("zhihui"):
        shown = dash_calls.text_of(page.layout())
        assert f"rect-row-{pid}" in shown and "排水能力不足" in shown and "整改中" in shown
        detail = dash_calls.text_of(cb.show(pid, 0)[0])
        assert "立单" in detail and "验收通过" in detail and "转预警预防" in detail
        assert "请先" not in detail and "整改报告" not in detail.split("rect-timeline")[0]
        ok, said = cb.move(pid, "accept", "")
        assert not ok and said == "该问题状态已变化，请刷新"  # nothing accepted before it is reported
    with logged_in(township_username("431002001" if owner != "431002001" else "431003001")):
        assert cb.move(pid, "report", "代报") == (False, "问题不存在")  # not its problem: not told of it
        assert "rect-row" not in dash_calls.text_of(page.layout())
    with logged_in(township_username(owner)):
        assert "请填写说明" in cb.move(pid, "report", "  ")[1]
        assert cb.move(pid, "report", "新增排水泵站一座")[0]
        assert cb.move(pid, "accept", "")[1] == "您的角色无权执行此操作"
    other_district = "431002" if grid[:6] != "431002" else "431003"
    with logged_in(f"qx{other_district}"):  # another district's desk: not shown, not told of it
        assert "rect-row" not in dash_calls.text_of(page.layout())
        assert cb.move(pid, "return", "越权退回") == (False, "问题不存在")
    with logged_in(f"qx{grid[:6]}"):  # its district's desk sees it
        assert f"rect-row-{pid}" in dash_calls.text_of(page.layout())
    with logged_in("zhihui"):
        assert "请填写说明" in cb.move(pid, "return", "")[1]
        assert cb.move(pid, "return", "泵站未通电")[0]
        assert cb.watch(pid, "heavy_rain", "1.5", "90", "汛期加密监测") == (False, "系数须在0.1至0.99之间")
        assert cb.watch(pid, "heavy_rain", "0.8", "400", "汛期加密监测") == (False, "持续天数须为1至184天")
        assert cb.watch(pid, "nope", "0.8", "90", "汛期加密监测") == (False, "请选择固定阈值的监测规则")
        ok, said = cb.watch(pid, "heavy_rain", "0.8", "90", "汛期加密监测")
        assert ok and said.startswith("已生成预警预防规则") and grid in said
        leader = dash_calls.text_of(importlib.import_module("dashboard.pages.leader").layout())
        assert "未验收整改" in leader and f"rect-row-{pid}" in leader
    with logged_in(township_username(owner), "en"):
        assert cb.move(pid, "report", "Pump connected")[1] == f"#{pid} Report rectification: Done"
    with logged_in("zhihui"):
        assert cb.move(pid, "accept", "")[0]
        leader = dash_calls.text_of(importlib.import_module("dashboard.pages.leader").layout())
        assert f"rect-row-{pid}" not in leader  # accepted: no longer open
    with psycopg.connect(dashboard_dsn) as conn:
        assert [r[0] for r in conn.execute("SELECT action FROM rectification_log WHERE rectification_id = %s"
                                           " ORDER BY id", (pid,))] == ["flag", "report", "return", "watch",
                                                                        "report", "accept"]
        assert one(conn, "SELECT rule_id, grid_code, levels -> 0 ->> 'at_least' FROM watch_rules"
                         " WHERE rectification_id = %s", (pid,)) == ("heavy_rain", grid, "16.0")


def test_the_admin_keeps_the_list_of_root_causes_audited(logged_in: LoggedIn, dashboard_dsn: str,
                                                         dash_calls: DashCalls) -> None:
    admin_page = importlib.import_module("dashboard.pages.admin")
    rc, offered = admin_page.root_causes, importlib.import_module("dashboard.pages.command.load").offered_causes

    def press(button: str, name: str = "", name_en: str = "", cause: int | None = None) -> str:
        """A click on one of the section's buttons with what its forms hold; what the section says."""
        values = {"add": (name, name_en, None, "", ""), "other": ("", "", cause, name, name_en)}
        args = [1 if b == button else 0 for b in (rc.Ids.ADD, rc.Ids.RENAME, rc.Ids.RETIRE, rc.Ids.RESTORE)]
        reply = dash_calls.triggered_by(rc.on_change, f"{button}.n_clicks", 1, *args,
                                        *values["add" if button == rc.Ids.ADD else "other"])
        return dash_calls.text_of(reply[0])

    with logged_in("zhihui"):
        assert "无权" in press(rc.Ids.ADD, "指挥中心自加")  # the server checks the role, not the page
    with logged_in("admin"):
        assert "根源分类管理" in dash_calls.text_of(rc.section("zh"))
        assert "请填写根源分类名称" in press(rc.Ids.ADD, "  ")
        assert "根源分类已保存" in press(rc.Ids.ADD, "测试根源甲", "Test cause A")
        assert "已有同名根源分类" in press(rc.Ids.ADD, "测试根源甲")
        with psycopg.connect(dashboard_dsn) as conn:
            cause = one(conn, "SELECT id FROM root_causes WHERE name = '测试根源甲'")[0]
        assert "已有同名根源分类" in press(rc.Ids.RENAME, "排水能力不足", "", cause)
        assert "根源分类已保存" in press(rc.Ids.RENAME, "测试根源乙", "Test cause B", cause)
        assert "根源分类已保存" in press(rc.Ids.RETIRE, cause=cause)
        assert cause not in {c.id for c in offered(importlib.import_module("dashboard.context").get_data())}
        assert "根源分类已保存" in press(rc.Ids.RESTORE, cause=cause)
    with psycopg.connect(dashboard_dsn) as conn:
        rows = [r[0] for r in conn.execute("SELECT detail FROM auth_events WHERE event = 'root_cause_changed'"
                                           " AND actor = 'admin' ORDER BY id")]
        assert rows[-4:] == [f"add {cause} 测试根源甲 / Test cause A",
                             f"rename {cause} 测试根源甲 / Test cause A → 测试根源乙 / Test cause B",
                             f"retire {cause} 测试根源乙 / Test cause B → 测试根源乙 / Test cause B",
                             f"restore {cause} 测试根源乙 / Test cause B → 测试根源乙 / Test cause B"]
        assert one(conn, "SELECT name, retired FROM root_causes WHERE id = %s", (cause,)) == ("测试根源乙", False)
