"""Where a point is, for an incident moved by hand: its region codes and near-boundary flag.

Ingest and device registration tag points with the same ``tag_points`` call, so an
amended incident is placed, routed and flagged exactly as an event at that point
would be. Kept apart from ``alerts.incidents``: the engine itself never tags, and need
not import geopandas.
"""

from __future__ import annotations

from alerts.incidents import Location
from layers.geo import Layers, tag_points
from layers.near import DEFAULT_NEAR_M


def locate(lon: float, lat: float, layers: Layers, near_m: float = DEFAULT_NEAR_M) -> Location:
    """The point tagged with ``layers`` (pass the active version's, as routing reads)."""
    tags = tag_points([lon], [lat], layers, near_m).iloc[0]
    return Location(lon, lat, tags["district_code"], tags["township_code"], tags["grid_code"], layers.version,
                    bool(tags["near_boundary"]))
