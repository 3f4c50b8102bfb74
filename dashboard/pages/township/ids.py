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
    SELECTED = "tw-selected"  # {"id": incident id, "mode": a key of callbacks.MODES}
    PANEL = "tw-panel"
    PANEL_TITLE = "tw-panel-title"
    FORM_MSG = "tw-form-msg"  # errors of the open form, shown where the user is looking
    REPORT_FORM = "tw-report-form"  # 处置进展, 处置反馈 and the 协办 reports: note, the catalogue's fields, photos
    RETURN_FORM = "tw-return-form"
    NOTE = "tw-note"
    RESULT_ROW = "tw-result-row"  # 处置结果: shown for a report of work done
    RESULT = "tw-result"
    FLOOD_ROWS = "tw-flood-rows"  # 人员转移: shown for a flood
    EVACUATED = "tw-evacuated"
    SHELTERS = "tw-shelters"
    PHOTO = "tw-photo"
    PHOTO_NAME = "tw-photo-name"
    SUBMIT_REPORT = "tw-submit-report"
    REASON = "tw-reason"
    SUGGEST = "tw-suggest"
    SUBMIT_RETURN = "tw-submit-return"
    CANCEL = "tw-cancel"
    # pattern-matching button types; the index is the incident id
    SIGN = "tw-sign"
    OPEN_FEEDBACK = "tw-open-feedback"
    OPEN_RETURN = "tw-open-return"
    OPEN_PROGRESS = "tw-open-progress"
    ASSIST_SIGN = "tw-assist-sign"
    OPEN_ASSIST_PROGRESS = "tw-open-assist-progress"
    OPEN_ASSIST_FEEDBACK = "tw-open-assist-feedback"
