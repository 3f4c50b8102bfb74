"""The ids of the 问题清单 page's components, each declared once."""

from __future__ import annotations

from enum import StrEnum


class Ids(StrEnum):
    MSG = "rect-msg"
    LIST = "rect-list"
    VERSION = "rect-version"  # bumped after each move so the list and the timeline re-read
    CHOOSE = "rect-choose"  # which problem's timeline is shown
    DETAIL = "rect-detail"
    # pattern-matching types inside one problem's detail, pid = the problem's id
    NOTE = "rect-note"
    MOVE = "rect-move"  # {"type", "action": report (the owner unit) | accept | return (a desk), "pid"}
    WATCH_RULE = "rect-watch-rule"  # 转预警预防: which rule, its factor, how many days, why
    WATCH_FACTOR = "rect-watch-factor"
    WATCH_DAYS = "rect-watch-days"
    WATCH_NOTE = "rect-watch-note"
    WATCH = "rect-watch"
