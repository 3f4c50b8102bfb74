"""The catalogue of what a unit reports about an incident, per category: the structured fields of its
处置进展 and 处置反馈 (and of a 协办 unit's 协办进展 and 协办反馈), beside the note and the photos.

Every category asks for 处置结果 when a unit reports its work done; a flood (防汛防台) asks, in every report,
for 人员转移: the people moved since the unit's previous report (so the reports of an event add up) and the
places they went to (安置点). A field is stored under its key in the report's log row (``details``), where
the incident page and the reads that sum people moved find it. The dashboard's forms check the values
(``dashboard.actions.parse_report``); this module only says which fields a report has.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from alerts.lifecycle import Action


class Kind(StrEnum):
    CHOICE = "choice"  # one of ``RESULTS``
    COUNT = "count"  # a whole number ≥ 0
    PLACES = "places"  # a list of names


# The moves that are a unit's report, and those that report its work (or its 协办 part) done.
REPORTS = frozenset({Action.PROGRESS, Action.FEEDBACK, Action.ASSIST_PROGRESS, Action.ASSIST_FEEDBACK})
DONE_REPORTS = frozenset({Action.FEEDBACK, Action.ASSIST_FEEDBACK})

# 处置结果: how the work ended (labels ``details.result.<code>`` in i18n).
RESULTS = ("resolved", "controlled", "false_alarm", "beyond")


@dataclass(frozen=True, slots=True)
class Field:
    key: str  # its key in the log row's details (and its label: ``details.<key>``)
    kind: Kind
    reports: frozenset[Action]  # the reports that ask for it
    required: bool = False


RESULT = Field("result", Kind.CHOICE, DONE_REPORTS, required=True)
PEOPLE_MOVED = Field("people_evacuated", Kind.COUNT, REPORTS)  # 人员转移数 since the unit's previous report
SHELTERS = Field("shelters", Kind.PLACES, REPORTS)  # 安置点: required when people were moved

EVERY_CATEGORY = "*"
FIELDS: dict[str, tuple[Field, ...]] = {
    EVERY_CATEGORY: (RESULT,),
    "flood": (PEOPLE_MOVED, SHELTERS),
}


# What a grid member may report (巡查上报), in the form's order: 城市管理 first (its work is checked on site:
# ``alerts.lifecycle.SITE_CHECKED``), then what a patrol also sees of the sensors' categories.
PATROL_CATEGORIES = ("city_management", "public_safety", "production_safety", "flood")


def fields_for(category: str, action: Action) -> tuple[Field, ...]:
    """The fields a report (``action``) on an incident of ``category`` asks for, in the form's order."""
    return tuple(f for f in (*FIELDS[EVERY_CATEGORY], *FIELDS.get(category, ())) if action in f.reports)
