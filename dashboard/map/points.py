"""The map's point layers: open incidents, devices (per grid, or one by one in a township), hazmat vehicles (with
their tracks), and the hotline heat.

Each definition holds the whole layer: the read that feeds it, when it is read again, the
traces it draws with their look and marker sizes, and the style that turns the read's frame
into their properties (pure). Coordinates are rounded to 5 decimals (~1 m) for the wire.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pandas as pd
import plotly.graph_objects as go
from shapely.geometry import LineString

from dashboard.map.model import LEVELS, Cadence, Changes, Kind, Layer, Props, Scene, T, View, incident_trace
from i18n.labels import LEVEL_COLOR, Lang, cargo_label, level_label, status_label, t
from i18n.timefmt import fmt_time

if TYPE_CHECKING:
    from dashboard.data import Data

ONLINE, OFFLINE = "#3ddc84", "#ff8a80"  # an offline device is the one to look at
VEHICLE = "#c77dff"
HEAT_SCALE = [[0, "rgba(255,200,0,0)"], [0.4, "rgba(255,170,0,0.35)"], [1, "rgba(255,60,0,0.8)"]]
BLUE_FIRST = sorted(LEVELS, reverse=True)  # red is drawn last, on top (the order of ``T``)


def _coords(values: pd.Series) -> list[float]:
    return [round(float(v), 5) for v in values]


def _markers(name: str, marker: dict[str, Any], **props: Any) -> go.Scattermap:
    """A point trace without points; its marker size comes from its layer's ``sizes``."""
    return go.Scattermap(mode="markers", name=name, hovertemplate="%{text}<extra></extra>", showlegend=False,
                         lon=[], lat=[], text=[], marker=marker, **props)


# -- open incidents: one trace per level --

def incident_traces(lang: Lang) -> list[go.Scattermap]:
    return [_markers(level_label(level, lang), {"color": LEVEL_COLOR[level], "opacity": 0.95}, customdata=[])
            for level in BLUE_FIRST]  # customdata: the incident ids, a click opens one


def incident_points(incidents: pd.DataFrame, level: int, names: dict[str, str], lang: Lang) -> Props:
    """lat/lon/hover text/ids of one level's open incidents: the part of the map that changes most."""
    rows = incidents[(incidents["level"] == level) & incidents["lon"].notna() & incidents["lat"].notna()] \
        if len(incidents) else incidents
    if not len(rows):
        return {"lat": [], "lon": [], "text": [], "customdata": []}
    text = [f"#{r.id} {r.title}<br>{level_label(int(r.level), lang)} · {status_label(r.status, lang)}"
            f"<br>{names.get(r.township_code or '', r.township_code or '—')}" for r in rows.itertuples()]
    return {"lat": _coords(rows["lat"]), "lon": _coords(rows["lon"]), "text": text,
            "customdata": [int(v) for v in rows["id"]]}


def incident_style(frame: pd.DataFrame, scene: Scene) -> Changes:
    return Changes({incident_trace(level): incident_points(frame, level, scene.base.names, scene.lang)
                    for level in LEVELS})


INCIDENTS = Layer("incidents", "layer.incidents", Kind.POINTS, Cadence.CHANGE,
                  lambda d, _now, _view: d.open_incidents(), incident_style,
                  tuple(incident_trace(level) for level in BLUE_FIRST), incident_traces,
                  sizes=tuple(15 if level == 1 else 12 for level in BLUE_FIRST), default_on=True)


# -- devices: per grid at the city and district views, one by one drilled into a township --

AMBER = "#ffc857"
# One scale for both: a device is 0 (offline) or 1 (online); a grid 0 (under 70 % of its devices online), 0.5
# (under 90 %, the online KPI's alert line) or 1.
DEVICE_SCALE = [[0, OFFLINE], [0.25, OFFLINE], [0.25, AMBER], [0.75, AMBER], [0.75, ONLINE], [1, ONLINE]]
GRID_FAIR, GRID_GOOD = 0.7, 0.9
POINT_HOVER = "%{text}<extra></extra>"


def device_trace(lang: Lang) -> list[go.Scattermap]:
    return [_markers(t("layer.devices", lang), {"color": [], "cmin": 0, "cmax": 1, "opacity": 0.85,
                                                "colorscale": DEVICE_SCALE}, customdata=[])]


def grid_class(online: int, devices: int) -> float:
    """A grid's colour class by the share of its devices online."""
    share = online / devices if devices else 1.0
    return 1.0 if share >= GRID_GOOD else 0.5 if share >= GRID_FAIR else 0.0


def device_read(d: Data, now: datetime, view: View) -> pd.DataFrame:
    """The screen's devices per grid (``kind`` "grid") and, drilled into a township, its devices one by one
    (``kind`` "device"), in the same columns: a city's 100,000 devices are ~1,000 grid markers, a township's
    a few hundred points, and the per-grid rows give the online KPI whatever the view."""
    grids = d.device_grids(now).assign(kind="grid")
    if view.level != "township" or view.code is None:
        return grids
    return pd.concat([grids, d.device_states(now, view.code).assign(kind="device")], ignore_index=True)


def device_style(frame: pd.DataFrame, scene: Scene) -> Changes:
    """A township's devices green or red; above, a marker per grid in its class's colour with its counts in the
    hover. Names and positions apart from the counts (``customdata``) and colours: a device going offline
    sends those, not every position and name again."""
    one_by_one = scene.view.level == "township"
    rows = frame[(frame["kind"] == ("device" if one_by_one else "grid")) & frame["lon"].notna()] \
        if len(frame) else frame
    if not len(rows):
        return Changes({T.DEVICES: {"lon": [], "lat": [], "text": [], "marker.color": [], "customdata": [],
                                    "hovertemplate": POINT_HOVER}})
    online, devices = [int(v) for v in rows["online"]], [int(v) for v in rows["devices"]]
    if one_by_one:
        props: Props = {"text": [str(v) for v in rows["name"]], "marker.color": online, "customdata": [],
                        "hovertemplate": POINT_HOVER}
    else:
        names = scene.base.names
        counts = t("map.devices_hover", scene.lang, online="%{customdata[0]}", devices="%{customdata[1]}")
        props = {"text": [names.get(c, c) for c in rows["code"]],
                 "marker.color": [grid_class(o, n) for o, n in zip(online, devices, strict=True)],
                 "customdata": [[o, n] for o, n in zip(online, devices, strict=True)],
                 "hovertemplate": f"%{{text}}<br>{counts}<extra></extra>"}
    return Changes({T.DEVICES: {"lon": _coords(rows["lon"]), "lat": _coords(rows["lat"]), **props}})


DEVICES = Layer("devices", "layer.devices", Kind.POINTS, Cadence.LIVE, device_read, device_style, (T.DEVICES,),
                device_trace, sizes=(7,))  # on request


# -- hazmat vehicles: where they are and their last 30 minutes, coloured by cargo class --

# The UN classes' placard colours, made to read on the dark map (6's white, 8's black-and-white as grey).
CARGO_COLOR: dict[int, str] = {1: "#ff8c00", 2: "#3ddc84", 3: "#ff4d4d", 4: "#ff9ecb", 5: "#ffd400", 6: "#f5f5f5",
                               7: "#ffe680", 8: "#9aa0a6", 9: "#c77dff"}
TRACK_TOLERANCE_DEG = 0.002  # ~200 m: a track's straight stretches are sent as their ends
TRAIL_OPACITY, HEAD_OPACITY = 0.5, 0.95


def vehicle_trace(lang: Lang) -> list[go.Scattermap]:
    return [_markers(t("layer.hazmat", lang), {"color": VEHICLE, "opacity": HEAD_OPACITY}, customdata=[])]


def simplified(lons: Sequence[float], lats: Sequence[float]) -> list[tuple[float, float]]:
    """A track with its straight stretches reduced to their ends (Douglas–Peucker), first and last kept."""
    points = list(zip(lons, lats, strict=True))
    if len(points) < 3:
        return points
    line = LineString(points).simplify(TRACK_TOLERANCE_DEG, preserve_topology=False)
    return [(float(x), float(y)) for x, y in line.coords]


def _head_text(r: Any, lang: Lang) -> str:
    cargo = cargo_label(int(r.cargo_class), lang) if pd.notna(r.cargo_class) else ""
    speed = "" if pd.isna(r.speed) else f"{float(r.speed):.0f} km/h · "
    return (f"{r.plate or r.name}<br>{cargo}{f' · {r.cargo}' if r.cargo else ''}<br>{r.company or ''}"
            f"<br>{speed}{fmt_time(r.ts)}")


def vehicle_points(vehicles: pd.DataFrame, lang: Lang) -> Props:
    """Per vehicle its simplified trail (faint) then where it is now, in its cargo class's colour; every point
    carries the vehicle's id, so a click on it or its trail shows the vehicle."""
    out: dict[str, list[Any]] = {"lat": [], "lon": [], "text": [], "customdata": [], "marker.color": [],
                                 "marker.opacity": []}
    for device_id, rows in vehicles.groupby("device_id", sort=True):
        head = next(rows.iloc[[-1]].itertuples())
        trail = simplified(list(rows["lon"]), list(rows["lat"]))[:-1]
        color = CARGO_COLOR.get(int(head.cargo_class), VEHICLE) if pd.notna(head.cargo_class) else VEHICLE
        for lon, lat in trail:
            out["lon"].append(round(lon, 5))
            out["lat"].append(round(lat, 5))
        out["lon"].append(round(float(head.lon), 5))
        out["lat"].append(round(float(head.lat), 5))
        out["text"] += [str(head.plate or head.name)] * len(trail) + [_head_text(head, lang)]
        out["customdata"] += [str(device_id)] * (len(trail) + 1)
        out["marker.color"] += [color] * (len(trail) + 1)
        out["marker.opacity"] += [TRAIL_OPACITY] * len(trail) + [HEAD_OPACITY]
    return out


def vehicle_style(frame: pd.DataFrame, scene: Scene) -> Changes:
    return Changes({T.VEHICLES: vehicle_points(frame, scene.lang)})


HAZMAT = Layer("hazmat", "layer.hazmat", Kind.POINTS, Cadence.LIVE, lambda d, now, _view: d.vehicle_positions(now),
               vehicle_style, (T.VEHICLES,), vehicle_trace, sizes=(11,), default_on=True)


# -- hotline tickets: a heat map --

def heat_trace(lang: Lang) -> list[go.Densitymap]:
    return [go.Densitymap(name=t("layer.hotline", lang), radius=18, colorscale=HEAT_SCALE, showscale=False,
                          hoverinfo="skip", lat=[], lon=[], z=[])]


def heat_style(frame: pd.DataFrame, _scene: Scene) -> Changes:
    if not len(frame):
        return Changes({T.HEAT: {"lat": [], "lon": [], "z": []}})
    return Changes({T.HEAT: {"lat": [round(float(v), 3) for v in frame["lat"]],
                             "lon": [round(float(v), 3) for v in frame["lon"]], "z": [int(v) for v in frame["n"]]}})


HOTLINE = Layer("hotline", "layer.hotline", Kind.HEAT, Cadence.LIVE, lambda d, now, _view: d.hotline_heat(now),
                heat_style, (T.HEAT,), heat_trace, default_on=True)

LAYERS = (INCIDENTS, DEVICES, HAZMAT, HOTLINE)
