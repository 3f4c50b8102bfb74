"""The ids of the 镇街工作台 page's components, each declared once."""

from __future__ import annotations

from enum import StrEnum


class Ids(StrEnum):
    LIST = "tw-list"
    MORE = "tw-more"  # the note under the cards when the queue holds more than shown
    MSG = "tw-msg"
    TICK = "tw-tick"
    VERSION = "tw-version"  # bumped after each action so the list re-reads at once
    MARKER = "tw-marker"  # what the list shows: the township's change marker and the minute
    SELECTED = "tw-selected"  # {"id": incident id, "mode": "feedback" | "progress" | "return"}
    PANEL = "tw-panel"
    PANEL_TITLE = "tw-panel-title"
    FORM_MSG = "tw-form-msg"  # errors of the open form, shown where the user is looking
    FEEDBACK_FORM = "tw-feedback-form"
    RETURN_FORM = "tw-return-form"
    PROGRESS_FORM = "tw-progress-form"
    PROGRESS_NOTE = "tw-progress-note"
    SUBMIT_PROGRESS = "tw-submit-progress"
    NOTE = "tw-note"
    EVACUATED = "tw-evacuated"
    PHOTO = "tw-photo"
    PHOTO_NAME = "tw-photo-name"
    SUBMIT_FEEDBACK = "tw-submit-feedback"
    REASON = "tw-reason"
    SUGGEST = "tw-suggest"
    SUBMIT_RETURN = "tw-submit-return"
    CANCEL = "tw-cancel"
    # pattern-matching button types; the index is the incident id
    SIGN = "tw-sign"
    OPEN_FEEDBACK = "tw-open-feedback"
    OPEN_RETURN = "tw-open-return"
    OPEN_PROGRESS = "tw-open-progress"
