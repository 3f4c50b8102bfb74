"""The map's open 12345 hotspots (主动治理): one ring per hotspot incident still open, over the hotline heat and
under the incidents (the hotspot's own incident is a point of the incident layer; the ring says it is a hotspot,
of which kind and how many tickets). Read when the incident or warning tables change (a ticket joining a hotspot
updates its warning)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import pandas as pd
import plotly.graph_objects as go

from dashboard.map.model import Cadence, Changes, Kind, Layer, Scene, T, View
from dashboard.map.points import _coords, _markers
from dashboard.reads import OPEN_STATUSES
from i18n.labels import Lang, complaint_label, status_label, t

if TYPE_CHECKING:
    from dashboard.data import Data

RING = "rgba(255,112,67,0.30)"  # the heat's orange, see-through: the incident under it stays visible


def read(d: Data, _now: datetime, _view: View) -> pd.DataFrame:
    """id, lon, lat, status, township_code, complaint, tickets of the open hotspot incidents (of a district's
    screen: those on its desk)."""
    return d._df(
        "SELECT i.id, i.lon, i.lat, i.status, i.township_code, min(e.title) AS complaint, count(*) AS tickets"
        " FROM incidents i JOIN hotspot_tickets h ON h.incident_id = i.id"
        " JOIN events e USING (source_system, event_id, ts)"
        " WHERE i.status = ANY(%(open)s) AND i.lon IS NOT NULL AND i.lat IS NOT NULL"
        + d._in_district("i.desk_district") + " GROUP BY i.id ORDER BY i.id",
        {"open": OPEN_STATUSES} | d._district())


def draw(lang: Lang) -> list[go.Scattermap]:
    return [_markers(t("layer.hotspots", lang), {"color": RING}, customdata=[])]


def style(frame: pd.DataFrame, scene: Scene) -> Changes:
    if not len(frame):
        return Changes({T.HOTSPOTS: {"lon": [], "lat": [], "text": [], "customdata": []}})
    lang, names = scene.lang, scene.base.names
    text = [f"#{r.id} {t('layer.hotspots', lang)} · {complaint_label(r.complaint, lang)}"
            f"<br>{t('col.tickets', lang)} {int(r.tickets)} · {status_label(r.status, lang)}"
            f"<br>{names.get(r.township_code or '', r.township_code or '—')}" for r in frame.itertuples()]
    return Changes({T.HOTSPOTS: {"lon": _coords(frame["lon"]), "lat": _coords(frame["lat"]), "text": text,
                                 "customdata": [int(v) for v in frame["id"]]}})


HOTSPOTS = Layer("hotspots", "layer.hotspots", Kind.POINTS, Cadence.CHANGE, read, style, (T.HOTSPOTS,), draw,
                 sizes=(34,), default_on=True)
