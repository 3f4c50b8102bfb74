"""What the big screen reads, at the ``now`` its callback was given: the first picture, and on
each tick only what may have changed (the incident and warning tables behind a cheap marker,
the live layers every ``LIVE_EVERY_S``). Also the screen's own state (the MARKER store) as a type.

A district desk's screen (区县指挥中心) is its district's: every read goes through ``screen``, the data
scoped to that district (``Data.for_district``), and it opens on its district (``home``), where a view
the browser sends of anything else falls back to (``view_of``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pandas as pd

from alerts.lifecycle import Role
from dashboard import bigscreen
from dashboard.actions import on_desk_of
from dashboard.auth import SessionUser
from dashboard.map import registry
from dashboard.map.model import CITY, BaseMap, Cadence, Layer, View
from i18n.timefmt import local, start_of_local_day

if TYPE_CHECKING:
    from dashboard.data import Data

LIVE_EVERY_S = 9.0  # devices, vehicles and heat: every third tick is plenty
Kpis = dict[str, float | int | None]


def district_of(user: SessionUser) -> str | None:
    """The district whose screen the user sees: a district desk's own; None (the city) for the others."""
    return user.district_code if user.role is Role.DISTRICT else None


def screen(data: Data, user: SessionUser) -> Data:
    """The reads of the user's screen: a district desk's are of its district only, whatever it asks for."""
    return data.for_district(district_of(user))


def home(district: str | None) -> View:
    """Where the screen opens and the top it goes back to: the city, or a district desk's own district."""
    return CITY if district is None else View("district", district)


def view_of(raw: object, base: BaseMap, district: str | None) -> View:
    """The view the browser keeps, checked against the screen's base map (a district's knows its own areas
    only): anything else, and the city on a district's screen, is its ``home``."""
    view = View.from_store(raw, base)
    return home(district) if view == CITY else view


def clicked(data: Data, incident_id: int, district: str | None) -> dict[str, Any] | None:
    """A clicked incident, if the screen shows it: on a district's screen one on its desk only."""
    incident = data.incident(incident_id)
    return incident if district is None or on_desk_of(incident, district) else None


@dataclass(frozen=True, slots=True)
class VehicleCard:
    """A clicked vehicle: its latest fix with plate, company and cargo, and its open warnings."""

    head: dict[str, Any]
    warnings: pd.DataFrame


def clicked_vehicle(data: Data, device_id: str, now: datetime) -> VehicleCard | None:
    """A clicked vehicle, if the screen shows it (heard from in the last 30 minutes; on a district's screen, last
    seen in it): the screen's own reads, so a district learns nothing of another's vehicles."""
    track = data.vehicle_positions(now)
    rows = track[track["device_id"] == device_id] if len(track) else track
    if not len(rows):
        return None
    return VehicleCard(rows.iloc[-1].to_dict(), data.vehicle_warnings(device_id))


@dataclass(frozen=True, slots=True)
class Shown:
    """What the screen shows, kept by the browser: the change marker it was drawn at, the fingerprints
    of its parts, when its live layers were read (epoch seconds), its KPI values."""

    change: str = ""
    fp: dict[str, str] = field(default_factory=dict)
    live_at: float = 0.0
    kpis: Kpis = field(default_factory=dict)

    @staticmethod
    def from_store(raw: object) -> Shown:
        """As sent by the browser, narrowed to what it may hold (anything else: resend)."""
        state = raw if isinstance(raw, dict) else {}
        fp, kpis, change = state.get("fp"), state.get("kpis"), state.get("change")
        try:
            live_at = float(state.get("live_at") or 0)
        except (TypeError, ValueError):
            live_at = 0.0
        return Shown(
            change=change if isinstance(change, str) else "",
            fp={k: v for k, v in fp.items() if isinstance(k, str) and isinstance(v, str)}
            if isinstance(fp, dict) else {},
            live_at=live_at,
            kpis={k: v for k, v in kpis.items() if k in bigscreen.KPIS and (v is None or isinstance(v, int | float))}
            if isinstance(kpis, dict) else {},
        )

    def to_store(self) -> dict[str, Any]:
        return {"change": self.change, "fp": self.fp, "live_at": self.live_at, "kpis": self.kpis}


@dataclass(frozen=True, slots=True)
class Board:
    """Beside the map, what follows the incident and warning tables."""

    warnings: pd.DataFrame
    hourly: pd.DataFrame
    kpis: Kpis


@dataclass(frozen=True, slots=True)
class LayerReads:
    """What one call read: the map layers' frames by layer id, and the board if the tables changed."""

    base: BaseMap
    now: datetime
    change: str  # the marker the reads were taken at
    frames: dict[str, pd.DataFrame]
    board: Board | None
    live: bool  # the live layers were read


def _frames(data: Data, layers: list[Layer], now: datetime, view: View) -> dict[str, pd.DataFrame]:
    return {layer.id: layer.read(data, now, view) for layer in layers}


def _board(data: Data, now: datetime) -> Board:
    return Board(data.latest_warnings(), data.hourly_new(now), data.kpis(start_of_local_day(now), now))


def _change(data: Data, now: datetime) -> str:
    # The minute is part of it: "overdue" changes with the clock even when no row does.
    return f"{local(now).strftime('%Y%m%d%H%M')}|{data.change_marker()}"


def first(data: Data, now: datetime, view: View = CITY) -> LayerReads:
    """Everything the first picture shows, for the view it opens on (``home``) and the default area layer. Its
    change marker is left blank: the first tick reads the tables again and finishes the picture
    (``views.first_picture``)."""
    layers = registry.due(tuple(Cadence), registry.DEFAULT_CHOROPLETH)
    return LayerReads(data.base_map(), now, "", _frames(data, layers, now, view), _board(data, now), live=True)


def tick(data: Data, now: datetime, shown: Shown, chosen: Layer, view: View = CITY) -> LayerReads:
    """What a refresh reads for ``view``: the tables' layers and the board if the marker moved, the live layers
    when due."""
    change = _change(data, now)
    changed = change != shown.change
    live = now.timestamp() - shown.live_at >= LIVE_EVERY_S
    cadences = ((Cadence.CHANGE,) if changed else ()) + ((Cadence.LIVE,) if live else ())
    return LayerReads(data.base_map(), now, change, _frames(data, registry.due(cadences, chosen), now, view),
                 _board(data, now) if changed else None, live)
