"""Simulated township staff for the demo: they sign for, work on and report back dispatched incidents.

A real city's townships answer on their desks; the demo city has nobody there, so its big screen
would only show incidents piling up unsigned and every step after 派遣 would stay empty. Each
incident gets a plan drawn from its id and a seed (whether its township answers at all, and how
long each step takes), so a restarted simulator tells the same story. Some townships never
answer, which keeps 超时, 催办 and 升级督办 in the picture. 返工 is left to the people at the screens, and so is
核查结案 for a while: what nobody closed within 20–60 minutes the simulated desk closes, naming a root cause from
the managed list as a desk must (``verify_move``), so the 问题清单 fills as the same causes recur.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from alerts.lifecycle import Action
from alerts.status import Status

IGNORED_SHARE = 0.1  # incidents whose township never answers
SIGN_MINUTES = (0.5, 10.0)  # after dispatch; a level-1 flood must be signed within 7.5
PROGRESS_MINUTES = (1.0, 6.0)  # after signing
FEEDBACK_MINUTES = (3.0, 15.0)  # after the progress report (or after 返工)

# (处置进展, 处置反馈) per category, as staff would type them.
NOTES: dict[str, tuple[str, str]] = {
    "flood": ("已到场，正在组织抽排积水、设置警戒", "积水已排除，道路恢复通行"),
    "production_safety": ("已到场封控，通知企业停产排查", "隐患已整改，复查合格"),
    "public_safety": ("已到场处置，现场已控制", "现场处置完毕，秩序恢复正常"),
    "hotline": ("已联系诉求人，正在上门核实", "已办结并回访诉求人，诉求人满意"),
    "device_health": ("运维人员已到场检修设备", "设备已修复，数据恢复上报"),
}
DEFAULT_NOTES = ("已到场核实，正在处置", "已处置完毕，现场恢复正常")
SIMULATED: dict[str, object] = {"simulated": True}  # in every move's log details: a timeline says it was the demo


@dataclass(frozen=True, slots=True)
class StaffPlan:
    answers: bool
    sign_after: timedelta
    progress_after: timedelta
    feedback_after: timedelta
    evacuated: int  # people moved to safety, reported with a flood's feedback


@dataclass(frozen=True, slots=True)
class StaffMove:
    action: Action
    note: str = ""
    details: dict[str, object] = field(default_factory=dict)


def plan_for(incident_id: int, seed: int) -> StaffPlan:
    rng = random.Random(seed * 1_000_003 + incident_id)
    return StaffPlan(answers=rng.random() >= IGNORED_SHARE,
                sign_after=timedelta(minutes=rng.uniform(*SIGN_MINUTES)),
                progress_after=timedelta(minutes=rng.uniform(*PROGRESS_MINUTES)),
                feedback_after=timedelta(minutes=rng.uniform(*FEEDBACK_MINUTES)),
                evacuated=rng.randint(0, 40))


def next_move(status: Status, category: str, waited: timedelta, plan: StaffPlan) -> StaffMove | None:
    """What the township does now, ``waited`` after the incident entered ``status``; None: nothing yet."""
    if not plan.answers:
        return None
    progress_note, feedback_note = NOTES.get(category, DEFAULT_NOTES)
    if status is Status.DISPATCHED and waited >= plan.sign_after:
        return StaffMove(Action.SIGN, details=SIMULATED)
    if status is Status.SIGNED and waited >= plan.progress_after:
        return StaffMove(Action.PROGRESS, progress_note, SIMULATED)
    if status is Status.IN_PROGRESS and waited >= plan.feedback_after:
        evacuated = {"people_evacuated": plan.evacuated} if category == "flood" else {}
        return StaffMove(Action.FEEDBACK, feedback_note, {**evacuated, **SIMULATED})
    return None


VERIFY_MINUTES = (20.0, 60.0)  # after 已反馈: the people at the desk have the first go
VERIFY_NOTE = "核查属实，同意结案"
# The root causes the simulated desk names per category (of migration 0023's list), the first of each most often
# (``FIRST_SHARE``), so one cause recurs in the grids and categories that see the same trouble again.
ROOT_CAUSES: dict[str, tuple[str, ...]] = {
    "flood": ("排水能力不足", "极端天气", "设施老化失修"),
    "production_safety": ("企业主体责任不落实", "违规作业", "设施老化失修"),
    "public_safety": ("设施老化失修", "日常巡查不到位", "设备故障误报"),
    "hotline": ("日常巡查不到位", "管理职责不清"),
    "device_health": ("设备故障误报", "设施老化失修"),
}
DEFAULT_CAUSES = ("日常巡查不到位", "管理职责不清")
FIRST_SHARE = 0.6


def verify_move(incident_id: int, category: str, waited: timedelta, seed: int,
                offered: Mapping[str, int]) -> StaffMove | None:
    """What the simulated desk does with an incident ``waited`` in 已反馈: nothing yet, or 核查结案 naming a root
    cause of ``offered`` (name → id, the list not retired; a name the admin renamed or retired falls back to the
    first offered). None also when nothing is offered: a desk's close must name one."""
    rng = random.Random(seed * 7_000_003 + incident_id)
    if waited < timedelta(minutes=rng.uniform(*VERIFY_MINUTES)) or not offered:
        return None
    names = ROOT_CAUSES.get(category, DEFAULT_CAUSES)
    name = names[0] if rng.random() < FIRST_SHARE else rng.choice(names)
    cause = offered.get(name, next(iter(offered.values())))
    return StaffMove(Action.VERIFY, VERIFY_NOTE, {"root_cause": cause, **SIMULATED})
