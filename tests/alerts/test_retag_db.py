"""A new boundary version re-tags (issue 18), with two versions on PostgreSQL: the second merges a township into
its neighbour. At the engine's next tick the fixed devices take the new codes, an open incident whose point is
now in the other township gets a 属地变更 row and the desk's flag, stays with its unit until the desk confirms
the area or transfers it, one whose codes did not change gets no row; it happens once per activation, and every
incident still replays to its row. The pure rule first."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import geopandas as gpd
import psycopg
import pytest

from alerts.evaluate import tick
from alerts.incidents import act, load, open_incident
from alerts.lifecycle import SYSTEM, Action, Actor, IllegalMove, Incident, Refusal, Role, transition
from alerts.locate import locate
from alerts.retag import Tags, point_township, retag_details, retag_note
from alerts.status import Status
from ingest.devices import DeviceSpec, register_devices
from ingest.tagging import layer_tagger
from layers.geo import Layers, Level, make_layers
from layers.loader import load_active_layers, write_version
from tests.fix_db import log_disagreements, one

if TYPE_CHECKING:
    from tests.fix_db import AsRole

NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
COMMAND = Actor("zhihui", Role.COMMAND)


def test_which_township_a_point_was_in() -> None:
    assert point_township("431002001004", "431002002") == "431002001"  # its grid's, whoever has it now
    assert point_township(None, "431002002") == "431002002"
    assert point_township(None, "dept-slj") is None and point_township(None, None) is None


def test_what_a_new_version_changes_of_a_point() -> None:
    old = Tags("431002", "431002002", "431002002003")
    assert retag_details(old, Tags("431002", "431002002", "431002002003", True), 2) is None  # the same codes
    regrid = retag_details(old, Tags("431002", "431002002", "431002002009"), 2)
    assert regrid is not None and regrid["grid_code"] == "431002002009"
    assert not regrid["township_changed"] and not regrid["near_boundary"]
    assert retag_note(regrid, {}) == "边界调整（第 2 版）：事发位置的区县、网格重新标注"
    moved = retag_details(old, Tags("431002", "431002001", "431002001901"), 3)
    assert moved is not None and moved["township_changed"] and moved["near_boundary"]  # the desk confirms
    assert (moved["township_code_of_point"], moved["from_township"]) == ("431002001", "431002002")
    assert retag_note(moved, {"431002001": "甲镇", "431002002": "乙镇"}) == \
        "边界调整（第 3 版）：事发位置改属甲镇（原属乙镇），请确认属地或转派"


def test_the_lifecycles_move_flags_and_never_moves_the_unit() -> None:
    details = retag_details(Tags("431002", "431002002", "431002002003"), Tags("431002", "431002001", "431002001901"),
                            2)
    assert details is not None
    working = Incident(1, Status.SIGNED, 3, "431002002", category="flood", grid_code="431002002003")
    moved, entry = transition(working, Action.RETAG, SYSTEM, NOW, note="边界调整", details=details)
    assert (moved.status, moved.township_code, moved.grid_code, moved.near_boundary) == (
        Status.SIGNED, "431002002", "431002001901", True)  # with its unit still; the desk is asked
    assert entry.action is Action.RETAG and entry.to_status is Status.SIGNED
    report = Incident(2, Status.REPORTED, 3, "431002002", category="city_management", grid_code="431002002003")
    assert transition(report, Action.RETAG, SYSTEM, NOW, details=details)[0].township_code == "431002001"
    with pytest.raises(IllegalMove) as closed:
        transition(Incident(3, Status.CLOSED, 3, "431002002"), Action.RETAG, SYSTEM, NOW, details=details)
    assert closed.value.refusal is Refusal.WRONG_STATE
    with pytest.raises(IllegalMove) as desk:
        transition(working, Action.RETAG, COMMAND, NOW, details=details)
    assert desk.value.refusal is Refusal.WRONG_ROLE


def merged(layers: Layers, into: str, gone: str) -> Layers:
    """The layers with township ``gone`` merged into ``into``: its area joins it, its grids become ``into``'s."""
    towns = layers.townships.copy()
    union = towns.loc[towns["code"].isin([into, gone])].geometry.union_all()
    towns.loc[towns["code"] == into, "geometry"] = gpd.GeoSeries([union], crs=towns.crs).values
    towns = towns.loc[towns["code"] != gone].reset_index(drop=True)
    grids = layers.grids.copy()
    theirs = grids["code"].str.startswith(gone)
    grids.loc[theirs, "code"] = [f"{into}{900 + n:03d}" for n in range(int(theirs.sum()))]
    grids.loc[theirs, "parent_code"] = into
    frames: dict[Level, gpd.GeoDataFrame] = {"district": layers.districts, "township": towns, "grid": grids}
    return make_layers(frames)


def test_a_merged_township_re_tags_devices_and_flags_its_open_incidents(demo_db: Callable[[], str],
                                                                        as_role: AsRole) -> None:
    dsn = demo_db()
    with psycopg.connect(dsn, autocommit=True) as conn, \
            psycopg.connect(as_role(dsn, "alerts"), autocommit=True) as engine:  # the engine's grants
        first = load_active_layers(conn)
        into, gone = [r[0] for r in conn.execute(
            "SELECT code FROM regions r JOIN boundary_versions b USING (version) WHERE b.active"
            " AND r.level = 'township' ORDER BY code LIMIT 2")]
        grid_point = ("SELECT label_lon, label_lat FROM regions r JOIN boundary_versions b USING (version)"
                      " WHERE b.active AND r.level = 'grid' AND parent_code = %s ORDER BY code LIMIT 1")
        points: dict[str, tuple[float, float]] = {t: (float(lon), float(lat)) for t in (into, gone)
                                                  for lon, lat in [one(conn, grid_point, (t,))]}
        register_devices(conn, [DeviceSpec(f"gauge-{t}", "water_level", "slj", "水位站", *points[t])
                                for t in (into, gone)], layer_tagger(first), first.version)
        conn.execute("INSERT INTO warnings (rule_id, subject, level, status, title, opened_at, updated_at,"
                     " township_code) VALUES ('level_high', %s, 3, 'open', '水位超警', %s, %s, %s)",
                     (f"gauge-{gone}", NOW, NOW, gone))
        opened = {}
        for t in (into, gone):
            where = locate(points[t][0], points[t][1], first)
            assert where.township_code == t
            iid = open_incident(conn, title=f"积水{t}", category="flood", level=3, source_kind="manual",
                                location=where, now=NOW)
            assert iid is not None
            opened[t] = iid
        for t, iid in opened.items():
            assert load(conn, iid).township_code == t  # routed to the township of its point
        old_grid = one(conn, "SELECT grid_code FROM incidents WHERE id = %s", (opened[gone],))[0]

        second = write_version(conn, merged(first, into, gone), "test: 合并镇街", "两镇合并")
        assert second == (first.version or 0) + 1
        tick(engine, (), NOW + timedelta(minutes=1))

        devices = {r[0]: r[1:] for r in conn.execute(
            "SELECT device_id, township_code, boundary_version FROM devices WHERE device_id LIKE 'gauge-%%'")}
        assert devices == {f"gauge-{into}": (into, second), f"gauge-{gone}": (into, second)}
        assert one(conn, "SELECT township_code FROM warnings WHERE subject = %s", (f"gauge-{gone}",))[0] == into
        moved = load(conn, opened[gone])
        assert moved.township_code == gone and moved.near_boundary  # not moved: flagged for the desk
        assert moved.grid_code != old_grid and (moved.grid_code or "").startswith(into)
        (action, note, details), = conn.execute(
            "SELECT action, note, details FROM incident_log WHERE incident_id = %s AND action = 'retag'",
            (opened[gone],)).fetchall()
        assert action == "retag" and "改属" in note and "请确认属地或转派" in note
        assert (details["from_township"], details["township_code_of_point"]) == (gone, into)
        assert not conn.execute("SELECT 1 FROM incident_log WHERE incident_id = %s AND action = 'retag'",
                                (opened[into],)).fetchall()  # its codes did not change: no row
        assert {r[0] for r in conn.execute("SELECT boundary_version FROM incidents")} == {second}
        assert one(conn, "SELECT retagged_at FROM boundary_versions WHERE version = %s", (second,))[0] is not None

        tick(engine, (), NOW + timedelta(minutes=2))  # once per activation
        assert one(conn, "SELECT count(*) FROM incident_log WHERE action = 'retag'")[0] == 1
        act(conn, opened[gone], Action.TRANSFER, COMMAND, NOW + timedelta(minutes=3), township_code=into,
            note="两镇合并，改由本镇办理")
        after = load(conn, opened[gone])
        assert (after.township_code, after.near_boundary, after.status) == (into, False, Status.DISPATCHED)
        assert log_disagreements(conn) == []

        write_version(conn, first, first.source)  # the first version again: due once more, back to its codes
        tick(engine, (), NOW + timedelta(minutes=4))
        assert one(conn, "SELECT township_code, boundary_version FROM devices WHERE device_id = %s",
                   (f"gauge-{gone}",)) == (gone, first.version)
        back = load(conn, opened[gone])
        assert back.township_code == into and back.near_boundary and back.grid_code == old_grid
        assert log_disagreements(conn) == []
