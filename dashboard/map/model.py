"""The big screen's map as data: the trace order, the base map, a view, a layer and what changes.

The figure has a fixed list of traces (``T``); everything after the first render is a
``dash.Patch`` of some of their properties (``Changes``). The base map is what one boundary
version gives the screen (polygons go by URL; the figure carries codes, names and bounds).
A view is the city, a district (its townships coloured) or a township (its grids coloured);
in the browser's store it is ``{"level": ..., "code": ...}`` (``View.to_store``/``from_store``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum, StrEnum
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from i18n.labels import Lang

if TYPE_CHECKING:
    from plotly.basedatatypes import BaseTraceType

    from dashboard.data import Data


class T(IntEnum):
    """Trace order = drawing order, bottom to top; patches address traces by these numbers."""

    DISTRICT_FILL = 0
    TOWNSHIP_FILL = 1
    GRID_FILL = 2
    HEAT = 3
    DISTRICT_LINE = 4
    FOCUS = 5
    LABELS = 6
    DEVICES = 7
    VEHICLES = 8
    HOTSPOTS = 9  # open 12345 hotspots (map/hotspots.py): rings under the incidents
    INCIDENT_4 = 10
    INCIDENT_3 = 11
    INCIDENT_2 = 12
    INCIDENT_1 = 13  # red on top of everything


LEVELS = (1, 2, 3, 4)


def incident_trace(level: int) -> int:
    return int(T.INCIDENT_1) - (level - 1)


Bounds = tuple[float, float, float, float]  # min_lon, min_lat, max_lon, max_lat
Label = tuple[str, float, float]  # name, lon, lat
ViewLevel = Literal["city", "district", "township"]


@dataclass(frozen=True, slots=True)
class View:
    level: ViewLevel
    code: str | None = None

    def child(self, code: str) -> View:
        return View("district" if self.level == "city" else "township", code)

    @property
    def key(self) -> str:
        """Names the view for the browser's fitMap, which refits when it changes."""
        return f"{self.level}:{self.code}"

    def to_store(self) -> dict[str, str | None]:
        return {"level": self.level, "code": self.code}

    @staticmethod
    def from_store(raw: object, base: BaseMap) -> View:
        """A view from the browser, checked against the base map (an unknown code falls back to the city)."""
        if isinstance(raw, dict) and raw.get("level") in ("district", "township"):
            level: ViewLevel = "district" if raw["level"] == "district" else "township"
            code = raw.get("code")
            if isinstance(code, str) and code in base.names and len(code) == (6 if level == "district" else 9):
                return View(level, code)
        return CITY


CITY = View("city")


@dataclass(frozen=True, slots=True)
class GeoUrls:
    """Where the browser fetches the polygons (``routes`` serves them, cached per version)."""

    district: str
    township: str
    grid: str  # a template: one township's grids, ``{code}`` = the township

    def grid_of(self, code: str) -> str:
        return self.grid.format(code=code)


@dataclass(frozen=True, slots=True)
class BaseMap:
    """Everything the big screen draws from one boundary version, computed once per version."""

    version: int | None
    geojson: dict[str, str]  # "district" / "township" → its FeatureCollection, served as it is
    grid_geojson: dict[str, str]  # per township: a drill-down fetches only its own grids
    bounds: Bounds | None
    region_bounds: dict[str, Bounds]  # districts and townships: where a drill-down zooms to
    names: dict[str, str]
    parents: dict[str, str | None]
    children: dict[str, list[str]]  # "" → the districts, a district → its townships, a township → its grids
    label_of: dict[str, Label]  # districts and townships
    illustrative: bool  # the townships are 示意, not official

    @property
    def urls(self) -> GeoUrls:
        v = self.version or 0
        return GeoUrls(f"/geo/{v}/district.geojson", f"/geo/{v}/township.geojson", f"/geo/{v}/grid/{{code}}.geojson")

    def children_of(self, view: View) -> list[str]:
        """Codes of the areas coloured in ``view``: districts, a district's townships, a township's grids."""
        return list(self.children.get(view.code or "", []))

    def bounds_of(self, view: View) -> Bounds | None:
        return self.region_bounds.get(view.code) if view.code else self.bounds

    def parent_of(self, view: View) -> View:
        if view.level == "township" and view.code:
            return View("district", self.parents.get(view.code) or view.code[:6])
        return CITY


Props = dict[str, Any]  # one trace's properties by dotted path ("marker.color") → value


@dataclass(frozen=True, slots=True)
class Changes:
    """Trace index → properties to set: what a ``Patch`` or the first render writes."""

    traces: dict[int, Props] = field(default_factory=dict)

    def __getitem__(self, index: int) -> Props:
        return self.traces[index]

    def merge(self, *others: Changes) -> Changes:
        """Combined, later ones winning per property (a view's fill and the colours for it)."""
        out: dict[int, Props] = {index: dict(props) for index, props in self.traces.items()}
        for part in others:
            for index, props in part.traces.items():
                out.setdefault(index, {}).update(props)
        return Changes(out)

    def apply_to(self, target: Any) -> Any:
        """Written into a ``dash.Patch`` or a figure dict; dotted keys reach nested properties,
        created in a dict where missing."""
        for index, props in self.traces.items():
            for key, value in props.items():
                *path, last = key.split(".")
                node = target["data"][index]
                for part in path:
                    node = node.setdefault(part, {}) if isinstance(node, dict) else node[part]
                node[last] = value
        return target


@dataclass(frozen=True, slots=True)
class Scene:
    """What a style needs besides its frame: the base map, the view, the language, the polygons' URLs."""

    base: BaseMap
    view: View
    lang: Lang
    urls: GeoUrls

    @staticmethod
    def of(base: BaseMap, view: View, lang: Lang) -> Scene:
        return Scene(base, view, lang, base.urls)


class Kind(StrEnum):
    BOUNDARY = "boundary"
    CHOROPLETH = "choropleth"
    POINTS = "points"
    HEAT = "heat"


class Cadence(StrEnum):
    """When a layer is read again."""

    ONCE = "once"  # with the page: the boundaries do not change while it is open
    CHANGE = "change"  # when the incident or warning tables changed (their cheap marker)
    LIVE = "live"  # every few seconds: sensors, vehicles, tickets


@dataclass(frozen=True, slots=True)
class Layer:
    """One map layer, whole: what it reads and when, the traces it draws, how a frame styles them."""

    id: str
    label: str  # text key
    kind: Kind
    cadence: Cadence
    read: Callable[[Data, datetime, View], pd.DataFrame]  # the view on screen: a township's devices one by one
    style: Callable[[pd.DataFrame, Scene], Changes]
    traces: tuple[int, ...]  # what it draws into; the choropleths share the three area fills
    draw: Callable[[Lang], list[BaseTraceType]] | None = None  # its traces' fixed look (None: the views draw)
    sizes: tuple[int, ...] = ()  # marker size of each trace at 1920×1080 (the browser scales them on a 4K wall)
    default_on: bool = False

    @property
    def marker_sizes(self) -> dict[int, int]:
        return dict(zip(self.traces, self.sizes, strict=True)) if self.sizes else {}

    @property
    def toggled(self) -> bool:
        """Switched on and off by the user (a choropleth is chosen instead: one colours the areas at a time)."""
        return self.kind is not Kind.CHOROPLETH
