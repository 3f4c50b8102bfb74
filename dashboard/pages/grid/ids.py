"""The ids of the 网格巡查 page's components, each declared once."""

from __future__ import annotations

from enum import StrEnum


class Ids(StrEnum):
    MSG = "wg-msg"
    TICK = "wg-tick"
    VERSION = "wg-version"  # bumped after each report or check so the lists re-read at once
    MARKER = "wg-marker"
    MAP = "wg-map"  # its grids and their open incidents
    LISTS = "wg-lists"  # 待现场核查, the grids' open incidents, the member's own reports
    # 巡查上报
    FORM_MSG = "wg-form-msg"
    CATEGORY = "wg-category"
    LON = "wg-lon"
    LAT = "wg-lat"
    LOCATE = "wg-locate"  # the phone's position into LON / LAT (in the browser)
    LOCATE_MSG = "wg-locate-msg"
    FROM_MAP = "wg-from-map"  # the map's centre (under the cross) into LON / LAT (in the browser)
    NOTE = "wg-note"
    PHOTO = "wg-photo"
    PHOTO_NAME = "wg-photo-name"
    SUBMIT = "wg-submit"
    # 现场核查 of an incident (pass or fail, a note and photos)
    SELECTED = "wg-selected"  # the incident id being checked
    CHECK_PANEL = "wg-check-panel"
    CHECK_TITLE = "wg-check-title"
    CHECK_MSG = "wg-check-msg"
    CHECK_NOTE = "wg-check-note"
    CHECK_PHOTO = "wg-check-photo"
    CHECK_PHOTO_NAME = "wg-check-photo-name"
    CHECK_PASS = "wg-check-pass"
    CHECK_FAIL = "wg-check-fail"
    CHECK_CANCEL = "wg-check-cancel"
    OPEN_CHECK = "wg-open-check"  # pattern-matching; the index is the incident id
