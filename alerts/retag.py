"""A new boundary version re-tags (issue 18): once a version is active, the fixed devices and the open incidents
tagged with another version get the codes of the new one, in one transaction.

A device's codes are simply replaced (its rules read them from the next reading on), and so are those of
its open warnings. An incident is never moved
silently: when its point's codes change, a 属地变更 row of the lifecycle records them (``Action.RETAG``), and
when the point now lies in another township the incident is flagged (``near_boundary``) so the desk confirms
the area (确认属地) or re-routes it (转派); it stays with the unit it is with until then. A report awaiting
受理 follows its point's township, as it did when it was made. Incidents tagged with no version (placed by hand
without the layers) are left as they are.

The engine's timer runs it when the active version has not been re-tagged since it became active
(``boundary_versions.retagged_at``), so it is imported only then: tagging needs geopandas, which the engine
otherwise never loads.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import psycopg

from alerts.incidents import act
from alerts.lifecycle import SYSTEM, Action, district_of_unit
from alerts.status import OPEN, Status
from layers.geo import Layers, tag_points
from layers.loader import load_active_layers

log = logging.getLogger("cityops.alerts.retag")

RETAGGED = tuple(sorted(s.value for s in OPEN | {Status.REPORTED}))  # what a 属地变更 may move (the lifecycle's)


@dataclass(frozen=True, slots=True)
class Tags:
    """A point's codes under one boundary version."""

    district_code: str | None
    township_code: str | None
    grid_code: str | None
    near_boundary: bool = False


@dataclass(frozen=True, slots=True)
class Retagged:
    devices: int  # whose codes were replaced
    incidents: int  # with a 属地变更 row
    flagged: int  # of those, now in another township: for the desk to confirm or re-route


def point_township(grid_code: str | None, unit: str | None) -> str | None:
    """The township an incident's point was tagged in: its grid's (a grid's code begins with its township's),
    else the township it is with."""
    if grid_code and len(grid_code) == 12:
        return grid_code[:9]
    return unit if district_of_unit(unit) is not None else None


def retag_details(old: Tags, new: Tags, version: int) -> dict[str, object] | None:
    """The 属地变更 row's details for a point tagged ``old`` and now ``new`` (None: its codes did not change).
    ``old.township_code`` is the point's township (``point_township``); a change of it flags the incident."""
    moved = new.township_code != old.township_code
    if not moved and (new.district_code, new.grid_code) == (old.district_code, old.grid_code):
        return None
    return {"district_code": new.district_code, "grid_code": new.grid_code,
            "township_code_of_point": new.township_code, "from_township": old.township_code,
            "township_changed": moved, "near_boundary": moved or new.near_boundary, "boundary_version": version}


def retag_note(details: dict[str, object], names: dict[str, str]) -> str:
    """What the 属地变更 row says (stored text, in the city's language)."""
    version = details["boundary_version"]
    if not details["township_changed"]:
        return f"边界调整（第 {version} 版）：事发位置的区县、网格重新标注"

    def name(code: object) -> str:
        return names.get(code, code) if isinstance(code, str) else "—"

    return (f"边界调整（第 {version} 版）：事发位置改属{name(details['township_code_of_point'])}"
            f"（原属{name(details['from_township'])}），请确认属地或转派")


def _tags(layers: Layers, lons: list[float], lats: list[float]) -> list[Tags]:
    if not lons:
        return []
    frame = tag_points(np.array(lons), np.array(lats), layers)
    return [Tags(d, t, g, bool(n)) for d, t, g, n in zip(frame["district_code"], frame["township_code"],
                                                          frame["grid_code"], frame["near_boundary"], strict=True)]


def retag(conn: psycopg.Connection, now: datetime) -> Retagged | None:
    """Re-tag what the active version has not re-tagged yet; None when nothing was due (or another engine holds
    it). One transaction: the devices, every incident's row and its 属地变更, and the version marked done."""
    with conn.transaction():
        due = conn.execute("SELECT version FROM boundary_versions WHERE active AND retagged_at IS NULL"
                           " FOR UPDATE SKIP LOCKED").fetchone()
        if due is None:
            return None
        version = int(due[0])
        layers = load_active_layers(conn)
        devices = conn.execute("SELECT device_id, lon, lat FROM devices WHERE boundary_version <> %s",
                               (version,)).fetchall()
        tagged = _tags(layers, [r[1] for r in devices], [r[2] for r in devices])
        conn.execute(
            "UPDATE devices d SET district_code = n.d, township_code = n.t, grid_code = n.g, near_boundary = n.near,"
            " boundary_version = %s FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::boolean[])"
            " AS n (id, d, t, g, near) WHERE d.device_id = n.id",
            (version, [r[0] for r in devices], [x.district_code for x in tagged], [x.township_code for x in tagged],
             [x.grid_code for x in tagged], [x.near_boundary for x in tagged]))
        # their open warnings follow them: the screens count warnings by the areas they carry
        conn.execute("UPDATE warnings w SET district_code = d.district_code, township_code = d.township_code,"
                     " grid_code = d.grid_code FROM devices d WHERE w.status = 'open' AND w.subject = d.device_id"
                     " AND d.device_id = ANY(%s)", ([r[0] for r in devices],))
        incidents = conn.execute(
            "SELECT id, lon, lat, district_code, township_code, grid_code FROM incidents WHERE status = ANY(%s)"
            " AND boundary_version <> %s AND lon IS NOT NULL AND lat IS NOT NULL ORDER BY id",
            (list(RETAGGED), version)).fetchall()
        names: dict[str, str] = dict(conn.execute(  # the newest name of each township, old ones included
            "SELECT DISTINCT ON (code) code, name FROM regions WHERE level = 'township' ORDER BY code, version DESC"
        ).fetchall())
        moved = flagged = 0
        for (incident_id, _, _, district, unit, grid), new in zip(
                incidents, _tags(layers, [r[1] for r in incidents], [r[2] for r in incidents]), strict=True):
            if grid is None:  # an area's incident (a township's warning) stands for no one grid: it keeps none
                new = Tags(new.district_code, new.township_code, None, new.near_boundary)
            details = retag_details(Tags(district, point_township(grid, unit), grid), new, version)
            if details is not None:
                act(conn, incident_id, Action.RETAG, SYSTEM, now, note=retag_note(details, names), details=details,
                    source="system")
                moved += 1
                flagged += bool(details["township_changed"])
            # the codes as the row replays them (a code the new version does not give is kept, as replay keeps it)
            conn.execute("UPDATE incidents SET district_code = COALESCE(%s, district_code),"
                         " grid_code = COALESCE(%s, grid_code), boundary_version = %s WHERE id = %s",
                         (new.district_code, new.grid_code, version, incident_id))
        conn.execute("UPDATE boundary_versions SET retagged_at = %s WHERE version = %s", (now, version))
    done = Retagged(len(devices), moved, flagged)
    log.info("boundary version %s: %d devices re-tagged, %d open incidents (%d in another township, flagged)",
             version, done.devices, done.incidents, done.flagged)
    return done
