"""Which migration files run for each flavour, in which order; clashing files are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from store.migrate import MigrationError, plan


@pytest.mark.parametrize("flavour", ["plain", "timescale"])  # `-k timescale` selects the timescale one
def test_shared_part_runs_before_the_flavours_part(flavour: str) -> None:
    steps = plan(flavour)
    assert [m.version for m in steps] == sorted({m.version for m in steps})
    by_version = {m.version: [p.name for p in m.paths] for m in steps}
    assert by_version["0002"] == ["0002_timeseries.sql", f"0002_timeseries.{flavour}.sql"]
    assert by_version["0001"] == ["0001_core.sql"]


def test_timescale_flavour_files_run_only_in_the_timescale_plan() -> None:
    timescale = {p.name for m in plan("timescale") for p in m.paths}
    plain = {p.name for m in plan("plain") for p in m.paths}
    assert {"0003_ingest.timescale.sql", "0006_late_minutes.timescale.sql"} <= timescale
    assert not {n for n in plain if ".timescale." in n}
    assert not {n for n in timescale if ".plain." in n}
    assert {n for n in timescale if n.count(".") == 1} == {n for n in plain if n.count(".") == 1}  # shared parts


def test_clashing_names_for_one_number_are_refused(tmp_path: Path) -> None:
    (tmp_path / "0001_first.sql").write_text("SELECT 1;")
    (tmp_path / "0001_second.plain.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="two migrations numbered 0001"):
        plan("plain", tmp_path)


def test_a_file_name_outside_the_pattern_is_refused(tmp_path: Path) -> None:
    (tmp_path / "1_oops.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="not understood"):
        plan("plain", tmp_path)
