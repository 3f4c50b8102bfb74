"""Ingest: MQTT → validated, region-tagged rows in TimescaleDB, acknowledged only after commit."""
