"""考核 on the database, plain PostgreSQL and the TimescaleDB flavour: the hand-built history of
``tests/alerts/test_assessment.py`` written move by move through ``alerts.incidents`` (so the log is the one the
system writes), then read back as the 考核 page reads it and from its Excel file. Every number is the one
worked out by hand there."""

from __future__ import annotations

import contextlib
import importlib
import io
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from types import ModuleType

import dash
import psycopg
import pytest
from openpyxl import load_workbook

from alerts.incidents import Location, act, open_incident
from dashboard.data import Data
from layers.geo import demo_layers
from store.db import make_pool
from tests.alerts.test_assessment import A, B, stories
from tests.fix_db import migrated_timescale

NOW = datetime(2026, 12, 3, 4, 0, tzinfo=UTC)  # the page's clock: November is last month


@pytest.fixture(scope="module")
def assessment(dash_app: dash.Dash) -> ModuleType:
    return importlib.import_module("dashboard.pages.assessment")


@contextlib.contextmanager
def database(flavour: str, demo_db: Callable[[], str]) -> Iterator[str]:
    if flavour == "plain":
        yield demo_db()
        return
    with migrated_timescale() as dsn:
        _district_layers(dsn, A[:6])
        yield dsn


def _district_layers(dsn: str, district: str) -> None:
    """The demo layers of one district, by INSERT (PGlite cannot COPY, which the layer loader uses)."""
    layers = demo_layers()
    with psycopg.connect(dsn) as conn:
        conn.execute("INSERT INTO boundary_versions (version, source, active) VALUES (1, 'test', true)")
        for level, frame in (("district", layers.districts), ("township", layers.townships), ("grid", layers.grids)):
            for r in frame[frame["code"].str.startswith(district)].itertuples():
                label = r.geometry.representative_point()
                conn.execute("INSERT INTO regions (version, level, code, name, parent_code, illustrative, geom_wkb,"
                             " label_lon, label_lat) VALUES (1, %s, %s, %s, %s, %s, %s, %s, %s)",
                             (level, r.code, r.name, r.parent_code, bool(r.illustrative), r.geometry.wkb, label.x,
                              label.y))
        conn.commit()


def write(dsn: str) -> dict[int, int]:
    """The stories through open_incident and act at their times; returns database id → story number."""
    ids = {}
    with psycopg.connect(dsn) as conn:
        for story in stories():
            number = story.incident.id or 0
            iid = open_incident(conn, title=f"考核样例{number}", category=story.category, level=story.level,
                                source_kind="manual", location=Location(113.0, 25.8, A[:6], None, None, None),
                                now=story.created)
            assert iid is not None
            for m in story.moves:
                act(conn, iid, m.action, m.actor, m.at, note=m.note, township_code=m.to, details=m.details)
            ids[iid] = number
        conn.commit()
    return ids


@pytest.mark.parametrize("flavour", ["plain", "timescale"])
def test_the_hand_worked_figures_from_the_page_and_its_excel(flavour: str, demo_db: Callable[[], str],
                                                              assessment: ModuleType) -> None:
    load, views = assessment.load, assessment.views
    from dashboard.excel import workbook

    with database(flavour, demo_db) as dsn:
        number = write(dsn)
        pool = make_pool(dsn, f"assess-{flavour}", max_size=1)  # PGlite serves one connection at a time
        try:
            data = Data(pool)
            a = load.assess(data, load.Query("2026-11", "township", None, None), NOW)
            rows = {r.figures.unit: r for r in a.rows}
            xlsx = workbook(views.sheets(a, load.rows_of(data, a.stretches), "zh", NOW))
            name_a = data.unit_names()[A]
        finally:
            pool.close()
    fa, fb = rows[A].figures, rows[B].figures
    assert (fa.dispatched, fa.signed_on_time, fa.closed, fa.returned, fa.returned_wrongly) == (8, 4, 5, 1, 1)
    assert (fa.due, fa.postponed, fa.handled_on_time, fa.decided, fa.reworked, fa.reworked_thrice) == (8, 1, 5, 6, 1, 1)
    assert (fa.emergency_due, fa.emergency_on_time, fa.routine_due, fa.routine_on_time) == (1, 1, 6, 4)
    assert sorted(fa.sign_minutes) == [10, 10, 20, 30, 90]
    assert sorted(fa.handle_minutes) == [150, 600, 600, 1380, 1620]  # 缓办's 48 h off the clock of story 3
    assert sorted(number[i] for i in fa.incidents["due"]) == [1, 2, 3, 4, 5, 6, 8, 9]
    assert (fb.dispatched, fb.due, fb.closed) == (1, 0, 0)
    assert rows[A].rank == 1 and rows[B].rank == 2 and rows[A].moved == 1  # B led October alone

    book = load_workbook(io.BytesIO(xlsx))
    ranking = list(book["考核排名"].iter_rows(values_only=True))
    header = next(i for i, r in enumerate(ranking) if r and r[0] == "排名")
    columns = ranking[header]
    row_a = dict(zip(columns, next(r for r in ranking[header + 1:] if r[2] == name_a), strict=True))
    assert row_a["按期签收率"] == 0.5 and row_a["按期结案率"] == round(5 / 7, 4) and row_a["结案率"] == 0.625
    assert row_a["返工率"] == round(1 / 6, 4) and row_a["退单率"] == 0.125
    assert (row_a["派遣数"], row_a["应结案数"], row_a["缓办数"]) == (8, 8, 1)
    assert isinstance(row_a["派遣数"], int) and isinstance(row_a["按期签收率"], float)  # numbers as numbers
    detail = list(book["事件明细"].iter_rows(values_only=True))
    head = next(i for i, r in enumerate(detail) if r and r[0] == "单位")
    listed = [r for r in detail[head + 1:] if r[0] == name_a]
    assert {number[r[1]] for r in listed} >= {1, 2, 3, 4, 5, 6, 8, 9}
    assert all(isinstance(r[4], datetime) for r in listed)  # 派遣时间 as a date, not text
