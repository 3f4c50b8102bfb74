-- 防汛 (issue 12). A device's own attributes, kept with the device and written at registration
-- (ingest/devices.py): a water-level station's lines in metres on its own datum,
--   {"lines": {"warning": 警戒水位, "guarantee": 保证水位, "flood_limit": 汛限水位 (reservoirs)}}
-- which the level rules read instead of one number per rule (alerts/rules.toml, ``lines``).
ALTER TABLE devices ADD COLUMN attributes jsonb NOT NULL DEFAULT '{}'::jsonb;

-- What made a warning, as the rule that raised it saw it last: the line a level crossed, a rainfall
-- accumulation and its grade, or for a compound rule the stations and values behind it
-- (alerts/verdicts.py). The grants of 0008 cover the new columns (they are table grants).
ALTER TABLE warnings ADD COLUMN details jsonb;
