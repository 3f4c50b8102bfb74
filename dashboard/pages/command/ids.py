"""The ids of the 值班指挥 page's components, each declared once."""

from __future__ import annotations

from enum import StrEnum


class Ids(StrEnum):
    QUEUES = "cmd-queues"
    MSG = "cmd-msg"
    TICK = "cmd-tick"
    MARKER = "cmd-marker"
    VERSION = "cmd-version"
    SELECTED = "cmd-selected"  # incident id chosen for rework
    SHOWN = "cmd-shown"  # how many rows of each queue are shown: {"verify": n, "new": n, "active": n}
    MORE = "cmd-more"  # pattern-matching: {"type", "queue", "to": rows to show}
    REWORK_PANEL = "cmd-rework-panel"
    REWORK_TITLE = "cmd-rework-title"
    REWORK_REASON = "cmd-rework-reason"
    REWORK_SUBMIT = "cmd-rework-submit"
    REWORK_CANCEL = "cmd-rework-cancel"
    # pattern-matching types, index = incident id
    VERIFY = "cmd-verify"
    ROOT_CAUSE = "cmd-root-cause"  # the root cause 核查结案 names (七张问题清单)
    OPEN_REWORK = "cmd-open-rework"
    DISPATCH = "cmd-dispatch"
    TARGET = "cmd-target"
    RESUME = "cmd-resume"
    ACCEPT = "cmd-accept"  # 受理立案 of a grid report (待受理)
    OPEN_ACT = "cmd-open-act"  # {"type", "index", "action": transfer | assist | postpone | merge | confirm}
    # the panel of the actions that need a note (and the override of a refused closure)
    ACT_SELECTED = "cmd-act-selected"  # {"id": incident id, "action": ...}
    ACT_PANEL = "cmd-act-panel"
    ACT_TITLE = "cmd-act-title"
    ACT_MSG = "cmd-act-msg"
    ACT_TOWNSHIP_ROW = "cmd-act-township-row"
    ACT_TOWNSHIP_LABEL = "cmd-act-township-label"
    ACT_TOWNSHIP = "cmd-act-township"
    ACT_INTO_ROW = "cmd-act-into-row"
    ACT_INTO = "cmd-act-into"
    ACT_OVERRIDE_ROW = "cmd-act-override-row"
    ACT_OVERRIDE = "cmd-act-override"
    ACT_NOTE_LABEL = "cmd-act-note-label"
    ACT_NOTE = "cmd-act-note"
    ACT_SUBMIT = "cmd-act-submit"
    ACT_CANCEL = "cmd-act-cancel"
