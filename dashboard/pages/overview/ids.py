"""The ids of the 一张图 page's components, each declared once."""

from __future__ import annotations

from enum import StrEnum


class Ids(StrEnum):
    MAP = "overview-map"
    TICK = "overview-tick"
    MARKER = "overview-marker"  # what the screen shows: change marker, part fingerprints, KPI values
    FIT = "overview-fit"  # what the browser needs to fit the map to its screen
    VIEW = "overview-view"  # {"level": "city" | "district" | "township", "code": ...}
    LAYERS = "overview-layers"
    LAYER_MAP = "overview-layer-map"
    METRIC = "overview-metric"
    BACK = "overview-back"
    CRUMB = "overview-crumb"
    PICK = "overview-districts"  # the children of the view, for touch screens and tests
    PICK_WRAP = "overview-pick-wrap"
    WARNINGS = "overview-warnings"
    TREND = "overview-trend"
    CLICKED = "overview-clicked"
    UPDATED = "overview-updated"
    LINK = "overview-link"  # "reconnecting", shown while refreshes do not land
    WATCH = "overview-watch"  # the browser's own timer that checks they do
    KPIS = "overview-kpis"
    SCALE = "overview-scale"  # 2 on a 4K wall: the first tick redraws the trend with larger text
