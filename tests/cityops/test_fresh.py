"""``up --fresh``: the run folder's embedded servers are stopped and their data deleted, nothing else."""

from __future__ import annotations

from pathlib import Path

from cityops import settings
from cityops.__main__ import start_over
from cityops.localserver import LocalMosquitto, LocalPostgres, free_port, isolated_up_env


def test_start_over_deletes_the_embedded_database_and_broker_sessions(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)  # as root the database runs as OS user postgres, which must reach its folder
    cfg = settings.load(isolated_up_env(tmp_path))
    pg = LocalPostgres(cfg.run_dir / "pg", cfg.pg_port)
    mq = LocalMosquitto(cfg.run_dir / "mqtt", cfg.mqtt_port, free_port())
    pg.start()
    mq.start()
    mq.stop()  # writes its persistence file
    mq.start()
    try:
        assert pg.alive() and (mq.data_dir / "mosquitto.db").exists()
        keep = cfg.run_dir / "logs" / "kept.log"
        keep.parent.mkdir(parents=True)
        keep.write_text("logs stay")
        start_over(cfg)
        assert not pg.alive() and not pg.data_dir.exists()
        assert mq.running_pid() is None and not (mq.data_dir / "mosquitto.db").exists()
        assert keep.read_text() == "logs stay"
    finally:
        mq.stop()
        pg.stop()
