"""python -m simulator history: a month of demo incidents, so a fresh demo opens with a past.

A new demo database has no incidents older than the minutes it has been running, so the leader
cockpit's 30-day window and the 考核 ranking would read "—" for most townships. This writes the last
``days`` days ending at ``now``: every incident opened with ``alerts.incidents.open_incident`` and moved
with ``alerts.incidents.act`` at its simulated past time, so the incident log is as real as a live run's
(the same checks, rows, deadlines and outbox messages), and every figure is read from it as usual.

Three steps, the first and the last pure:

- ``draw``: which incidents (township, category, level, title, time, fate), from the seed alone;
- ``place``: a point inside its township for each, tagged with the active layers (``layers.geo.tag_points``);
- ``plan``: the moves of each incident, checked move by move with the pure ``alerts.lifecycle.transition``,
  with the reminders and escalations the escalator would have made when a deadline passed
  (``alerts.lifecycle.escalation_due``); a move that would fall at or after ``now`` is not made, so recent
  incidents stay open where their story has got to.

Most incidents are signed and closed on time; some are signed late, finished late, sent back for
rework (返工, a few three times), postponed (缓办, then resumed), returned (退单, then dispatched again
to another township or, found wrong, to the same one), transferred (转派); a few recent ones are never
signed. Townships differ in how often they slip (``slips``), so the ranking spreads over its bands.
``write_history`` writes them once, all or nothing (two connections, committed together): a database that
has any history incident (``source_ref`` ``history:<seed>:<n>``) is left as it is. The incidents of
sensor rules carry source_kind ``warning`` but no warning row (there is no telemetry behind them); a 12345
hotspot lists its tickets (``simulator.tickets.history``: the events, their callers and ``hotspot_tickets``). The
dispatch messages the moves leave in the MQTT outbox are marked published: they belong to the past, no
township app should get them now.
"""

from __future__ import annotations

import contextlib
import functools
import math
import random
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TypeVar
from zoneinfo import ZoneInfo

import numpy as np
import psycopg
from psycopg.types.json import Jsonb

from alerts.deadlines import waiting_on, windows
from alerts.escalate import TO_WHOM
from alerts.hotspots import attach
from alerts.incidents import Location, act, open_incident
from alerts.lifecycle import SYSTEM, Action, Actor, Incident, Role, escalation_due, transition
from layers.geo import Layers, tag_points
from layers.loader import load_active_layers
from layers.near import DEFAULT_NEAR_M
from simulator import history_readings, tickets
from simulator.staff import DEFAULT_NOTES, NOTES, SIMULATED
from simulator.world import HOTLINE
from store.departments import UNIT_PREFIX, department_username, units_for
from store.frames import frame
from store.users import township_username

DEFAULT_DAYS = 30
DEFAULT_SEED = 20261122
ALREADY = "history: this database has its history already; nothing written"
SOURCE_PREFIX = "history:"  # source_ref of every history incident: history:<seed>:<n>
PER_TOWNSHIP_DAY = 0.8  # mean incidents a township sees a day
STORM_EXTRA = 2.5  # mean extra flood incidents a township of a storm's district sees that day
NEVER_SIGNED_DAYS = 3  # only incidents of the last days are left unsigned: overdue, not forgotten for weeks
NEVER_SIGNED_SHARE = 0.03
WRITERS = 2  # connections writing at once (write_history)
DESK = Actor("zhihui", Role.COMMAND)  # the command desk, as in the live demo
SHANGHAI = ZoneInfo("Asia/Shanghai")
T = TypeVar("T")


class Fate(StrEnum):
    """How an incident's story goes."""

    ON_TIME = "on_time"
    LATE_SIGN = "late_sign"
    LATE_FINISH = "late_finish"
    REWORK = "rework"  # 返工: fails 核查 once, twice or three times
    POSTPONE = "postpone"  # 缓办 approved by the desk, then resumed
    RETURN_OTHER = "return_other"  # 退单, re-dispatched to another township
    RETURN_SAME = "return_same"  # 退单 found wrong: re-dispatched to the same township
    TRANSFER = "transfer"  # 转派 by the desk to another unit
    NEVER_SIGNED = "never_signed"


FATES: tuple[tuple[Fate, float], ...] = (
    (Fate.ON_TIME, 0.61), (Fate.LATE_SIGN, 0.08), (Fate.LATE_FINISH, 0.08), (Fate.REWORK, 0.07),
    (Fate.POSTPONE, 0.04), (Fate.RETURN_OTHER, 0.035), (Fate.RETURN_SAME, 0.015), (Fate.TRANSFER, 0.04),
)
SLIPS = frozenset({Fate.LATE_SIGN, Fate.LATE_FINISH, Fate.REWORK, Fate.RETURN_OTHER})  # what a careless unit does more
# How often a township slips, against the average (SLIPS' weights times it): most are about average, some
# sharp and some struggling, so the 考核 ranking has all its bands. (share of townships, low, high)
CARE: tuple[tuple[float, float, float], ...] = (
    (0.25, 0.2, 0.6), (0.57, 0.6, 1.6), (0.13, 2.0, 4.0), (0.05, 9.0, 12.0))
STRUGGLE_LATE = 0.035  # a township slipping more than average is also late this often per unit of it above 1
OWN_WORK = frozenset(Fate) - {Fate.RETURN_OTHER, Fate.TRANSFER, Fate.NEVER_SIGNED}  # worked by the first township
REWORKS: tuple[tuple[int, float], ...] = ((1, 0.7), (2, 0.18), (3, 0.12))


@dataclass(frozen=True, slots=True)
class Kind:
    """A kind of incident the demo city has: what alerts/rules.toml and the feeds of simulator/world.py raise."""

    category: str
    levels: tuple[tuple[int, float], ...]  # (level, weight)
    title: str  # {township} is the township's name, {subject} one of ``subjects``
    source_kind: str
    weight: float
    subjects: tuple[str, ...] = ("",)


KINDS: tuple[Kind, ...] = (
    Kind("hotline", ((4, 1.0),), "主动治理·高频诉求热点 · {subject} · {township}", "event", 26, tickets.KINDS),
    Kind("public_safety", ((3, 1.0),), "110警情：{subject} · {township}", "event", 7,
         ("群众报警道路塌陷", "群众报警路面积水", "群众报警树木倒伏")),
    Kind("public_safety", ((1, 1.0),), "烟感火警 · {township}烟感{subject}号", "warning", 5, ("1", "2")),
    Kind("flood", ((4, 0.5), (3, 0.3), (2, 0.15), (1, 0.05)), "短时强降雨 · {township}雨量站1号", "warning", 7),
    Kind("flood", ((3, 0.6), (2, 0.3), (1, 0.1)), "河道水位超警戒 · {township}水位站1号", "warning", 5),
    Kind("flood", ((3, 0.7), (2, 0.3)), "河道水位快速上涨 · {township}水位站1号", "warning", 2),
    Kind("production_safety", ((2, 0.8), (1, 0.2)), "可燃气体浓度超限 · {township}燃气监测点1号", "warning", 6),
    Kind("production_safety", ((3, 0.7), (2, 0.3)), "危货车辆超速 · {township}危货车辆1号", "warning", 6),
    Kind("device_health", ((4, 1.0),), "设备离线 · {township}{subject}", "warning", 16,
         ("雨量站1号", "水位站1号", "燃气监测点1号", "烟感1号", "烟感2号", "危货车辆1号")),
)
STORM_KINDS = tuple(k for k in KINDS if k.category == "flood")

HOTLINE_DEPT, HOTLINE_SYSTEM = HOTLINE  # the 12345 system whose tickets a history hotspot lists
RETURN_NOTE = "非本镇街辖区，建议改派{name}"
RETURN_WRONG_NOTE = "经核实属该镇街辖区，退单理由不成立，重新派遣"
REDISPATCH_NOTE = "退单核实，改派{name}"
TRANSFER_NOTE = "经核实属{name}辖区，改派"
TRANSFER_DEPARTMENT_NOTE = "涉及行业主管部门职责，转派处置"
POSTPONE_ASK = ("申请缓办：需协调产权单位共同处置", "申请缓办：待专业队伍及材料到位",
                "申请缓办：天气原因暂不具备施工条件")
POSTPONE_NOTE = "同意缓办：{reason}"
RESUME_NOTE = "条件具备，恢复办理"
REWORK_NOTES = ("核查未通过：现场问题仍未解决", "核查未通过：反馈材料不全，请补充现场照片",
                "核查未通过：诉求人不满意，请重新处置")
CONFIRM_NOTE = "已电话核实属地"


@dataclass(frozen=True, slots=True)
class Township:
    code: str
    name: str
    district_code: str


@dataclass(frozen=True, slots=True)
class Draft:
    """An incident before it has a place or a story."""

    n: int  # its number in the history: source_ref history:<seed>:<n>
    created_at: datetime
    township: Township
    category: str
    level: int
    title: str
    source_kind: str
    fate: Fate
    reworks: int = 0
    late_sign: bool = False  # signed after the sign deadline (by the unit that does the work)
    late_finish: bool = False  # handled after the finish deadline
    subject: str = ""  # its kind's subject (a hotspot's kind of complaint)


@dataclass(frozen=True, slots=True)
class Step:
    """One move, as ``alerts.incidents.act`` takes it."""

    at: datetime
    action: Action
    actor: Actor
    note: str = ""
    township_code: str | None = None
    details: dict[str, object] = field(default_factory=dict)

    @property
    def source(self) -> str:
        """The log's source: the escalator is the system, simulated staff come through the API as the live
        ones do, the desk's moves are made on the web desk."""
        return {Role.SYSTEM: "system", Role.COMMAND: "web"}.get(self.actor.role, "api")


@dataclass(frozen=True, slots=True)
class Planned:
    draft: Draft
    location: Location
    steps: tuple[Step, ...]  # after open_incident's 立案, 派遣 and 协办
    final: Incident  # the state the steps end in (the row the log replays to)


def _weighted(rng: random.Random, choices: Sequence[tuple[T, float]]) -> T:
    return rng.choices([c for c, _ in choices], weights=[w for _, w in choices])[0]


def _poisson(rng: random.Random, mean: float) -> int:
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _created(rng: random.Random, start: datetime, category: str) -> datetime:
    """A moment of the day from ``start``; complaints come mostly in waking hours."""
    while True:
        at = start + timedelta(seconds=rng.uniform(0, 86_400))
        if category != "hotline" or 7 <= at.astimezone(SHANGHAI).hour < 22 or rng.random() < 0.15:
            return at.replace(microsecond=0)


def slips(townships: Sequence[Township], seed: int) -> dict[str, float]:
    """Each township's slip factor (``CARE``), from the seed."""
    rng = random.Random(f"{SOURCE_PREFIX}{seed}:care")
    out = {}
    for town in sorted(townships, key=lambda t: t.code):
        low, high = _weighted(rng, [((low, high), share) for share, low, high in CARE])
        out[town.code] = rng.uniform(low, high)
    return out


def storm_days(townships: Sequence[Township], days: int, seed: int) -> dict[int, str]:
    """The history's storm days (0: the first day) and the district each rained on: the flood incidents of
    ``draw`` and the rain and river readings of ``simulator.history_readings`` both follow them."""
    rng = random.Random(f"{SOURCE_PREFIX}{seed}:storms")
    districts = sorted({t.district_code for t in townships})
    return {day: rng.choice(districts) for day in rng.sample(range(days), k=min(days, max(1, days // 8)))}


def draw(townships: Sequence[Township], now: datetime, days: int, seed: int) -> list[Draft]:
    """The history's incidents, in order of creation: all before ``now``, the same for the same arguments.

    A few townships a day each; on a few storm days one district's townships see extra floods. How a
    township's incidents go depends on how careful it is (``slips``).
    """
    rng = random.Random(f"{SOURCE_PREFIX}{seed}")
    towns = sorted(townships, key=lambda t: t.code)
    care = slips(towns, seed)
    fates = {code: [(f, w * factor if f in SLIPS else w) for f, w in FATES] for code, factor in care.items()}
    storms = storm_days(towns, days, seed)
    items: list[tuple[datetime, Township, Kind]] = []
    for day in range(days):
        start = now - timedelta(days=days - day)
        for town in towns:
            kinds = [_weighted(rng, [(k, k.weight) for k in KINDS]) for _ in range(_poisson(rng, PER_TOWNSHIP_DAY))]
            if storms.get(day) == town.district_code:
                kinds += [_weighted(rng, [(k, k.weight) for k in STORM_KINDS])
                          for _ in range(_poisson(rng, STORM_EXTRA))]
            items += [(_created(rng, start, k.category), town, k) for k in kinds]
    items.sort(key=lambda item: (item[0], item[1].code))
    drafts = []
    recent = now - timedelta(days=NEVER_SIGNED_DAYS)
    for n, (at, town, kind) in enumerate(items, start=1):
        r = random.Random(f"{SOURCE_PREFIX}{seed}:{n}")
        level = _weighted(r, kind.levels)
        fate = _weighted(r, fates[town.code])
        if fate is Fate.POSTPONE and level <= 2:  # an emergency is not postponed
            fate = Fate.ON_TIME
        if at >= recent and r.random() < NEVER_SIGNED_SHARE * care[town.code]:
            fate = Fate.NEVER_SIGNED
        # A struggling township is late on top of its fate, in the incidents it works itself.
        extra = STRUGGLE_LATE * max(0.0, care[town.code] - 1) if fate in OWN_WORK else 0.0
        subject = r.choice(kind.subjects)
        drafts.append(Draft(
            n, min(at, now - timedelta(minutes=1)), town, kind.category, level,
            kind.title.format(township=town.name, subject=subject), kind.source_kind, fate,
            _weighted(r, REWORKS) if fate is Fate.REWORK else 0,
            late_sign=fate is Fate.LATE_SIGN or r.random() < extra,
            late_finish=fate is Fate.LATE_FINISH or r.random() < extra, subject=subject))
    return drafts


def place(drafts: Sequence[Draft], layers: Layers, seed: int, near_m: float = DEFAULT_NEAR_M) -> list[Location]:
    """A point inside its township for each draft (seeded), tagged as ingest tags points."""
    frame = layers.townships.sort_values("code").reset_index(drop=True)
    row_of = {code: i for i, code in enumerate(frame["code"])}
    per_town: dict[str, list[int]] = {}
    for i, d in enumerate(drafts):
        per_town.setdefault(d.township.code, []).append(i)
    sizes = [len(per_town.get(code, [])) for code in frame["code"]]
    samples = frame.geometry.sample_points(sizes, rng=np.random.default_rng(seed))
    lon, lat = np.zeros(len(drafts)), np.zeros(len(drafts))
    for code, indexes in per_town.items():
        sample = samples.iloc[row_of[code]]
        points = list(getattr(sample, "geoms", [sample]))
        for i, point in zip(indexes, points, strict=True):
            lon[i], lat[i] = round(point.x, 6), round(point.y, 6)
    tags = tag_points(lon, lat, layers, near_m)
    return [Location(float(lon[i]), float(lat[i]), row.district_code, row.township_code, row.grid_code,
                     layers.version, bool(row.near_boundary))
            for i, row in enumerate(tags.itertuples(index=False))]


def staff_of(unit: str) -> Actor:
    """The simulated staff of a township or a department unit, as the live simulated staff act."""
    if unit.startswith(UNIT_PREFIX):
        return Actor(department_username(unit.removeprefix(UNIT_PREFIX)), Role.DEPARTMENT, unit)
    return Actor(township_username(unit), Role.TOWNSHIP, unit)


class _Story:
    """One incident's moves, made in time order on its pure state; none at or after ``now``."""

    def __init__(self, state: Incident, start: datetime, now: datetime, rng: random.Random) -> None:
        self.state, self.t, self.now, self.rng = state, start, now, rng
        self.steps: list[Step] = []
        self.cut = False  # a move fell at or after now: the story stops there

    @property
    def unit(self) -> str:
        assert self.state.township_code is not None
        return self.state.township_code

    def windows(self) -> tuple[timedelta, timedelta, timedelta]:
        return windows(self.state.level, self.state.category)

    def move(self, after: timedelta, action: Action, actor: Actor, note: str = "", township: str | None = None,
             details: Mapping[str, object] | None = None) -> bool:
        """Make ``action`` ``after`` the last move (the escalator's rungs due meanwhile first)."""
        if self.cut:
            return False
        at = self.t + max(after, timedelta(seconds=30))
        self._ladder(until=min(at, self.now))
        if at >= self.now:
            self.cut = True
            return False
        self._apply(Step(at.replace(microsecond=0), action, actor, note, township, dict(details or {})))
        return True

    def end(self) -> None:
        if not self.cut:
            self._ladder(until=self.now)

    def _apply(self, step: Step) -> None:
        self.state, _ = transition(self.state, step.action, step.actor, step.at, note=step.note,
                                   township_code=step.township_code, details=step.details)
        self.steps.append(step)
        self.t = step.at

    def _ladder(self, until: datetime) -> None:
        """The reminders and escalations ``alerts.escalate`` makes, a little after each rung falls due."""
        while (clock := waiting_on(self.state.status)) is not None and self.state.deadline is not None:
            window = windows(self.state.level, self.state.category).of(clock)
            rungs = (timedelta(0), window / 2, window)[self.state.escalation_tier:]
            if not rungs:
                return
            lag = timedelta(seconds=self.rng.uniform(5, 60))  # the escalator runs every few seconds
            at = (max(self.state.deadline + rungs[0], self.t) + lag).replace(microsecond=0) + timedelta(seconds=1)
            if at >= until:
                return
            due = escalation_due(self.state, at)
            if due is None:
                return
            action, tier, to = due
            self._apply(Step(at, action, SYSTEM, TO_WHOM[to], None, {"tier": tier, "to": to}))


def _frac(rng: random.Random, window: timedelta, low: float, high: float) -> timedelta:
    return window * rng.uniform(low, high)


def _elsewhere(rng: random.Random, town: Township, townships: Sequence[Township]) -> Township:
    """Another township, of the same district when it has one."""
    same = [t for t in townships if t.district_code == town.district_code and t.code != town.code]
    return rng.choice(same or [t for t in townships if t.code != town.code] or [town])


def _work(story: _Story, rng: random.Random, draft: Draft, *, late_sign: bool = False,
          late_finish: bool = False, reworks: int = 0, postpone: bool = False) -> None:
    """From 派遣 to 结案, by the unit that holds the incident."""
    sign, finish, verify = story.windows()
    staff = staff_of(story.unit)
    progress_note, feedback_note = NOTES.get(draft.category, DEFAULT_NOTES)
    story.move(_frac(rng, sign, 1.1, 3.0) if late_sign else _frac(rng, sign, 0.05, 0.85), Action.SIGN, staff,
               details=SIMULATED)
    story.move(_frac(rng, finish, 0.02, 0.12), Action.PROGRESS, staff, progress_note, details=SIMULATED)
    if postpone:
        ask = rng.choice(POSTPONE_ASK)
        story.move(_frac(rng, finish, 0.05, 0.15), Action.PROGRESS, staff, ask, details=SIMULATED)
        story.move(timedelta(minutes=rng.uniform(10, 90)), Action.POSTPONE, DESK,
                   POSTPONE_NOTE.format(reason=ask.removeprefix("申请缓办：")), details=SIMULATED)
        by = staff if rng.random() < 0.7 else DESK
        story.move(max(_frac(rng, finish, 0.3, 1.5), timedelta(hours=2)), Action.RESUME, by, RESUME_NOTE,
                   details=SIMULATED)
    evacuated: dict[str, object] = {"people_evacuated": rng.randint(0, 40)} if draft.category == "flood" else {}
    for attempt in range(reworks + 1):
        deadline = story.state.finish_deadline or story.t
        left = deadline - story.t
        if late_finish and attempt == reworks:
            after = left + _frac(rng, finish, 0.1, 0.8)
        elif attempt:
            after = _frac(rng, finish, 0.05, 0.25)
        else:
            after = left * rng.uniform(0.2, 0.85) if left > timedelta(0) else timedelta(minutes=rng.uniform(5, 30))
        story.move(after, Action.FEEDBACK, staff, feedback_note, details={**evacuated, **SIMULATED})
        if attempt < reworks:
            story.move(_frac(rng, verify, 0.1, 0.7), Action.REWORK, DESK, rng.choice(REWORK_NOTES), details=SIMULATED)
    late_verify = rng.random() < 0.04
    story.move(_frac(rng, verify, 1.05, 1.6) if late_verify else _frac(rng, verify, 0.05, 0.7), Action.VERIFY, DESK,
               "核查属实，同意结案", details=SIMULATED)


def opened(draft: Draft, location: Location, assists: Sequence[str]) -> Incident:
    """The pure state ``open_incident`` leaves: 立案, 派遣 to the draft's township, 协办 of the departments."""
    state = Incident(id=None, status=None, level=draft.level, township_code=None, category=draft.category)
    details: dict[str, object] = {"level": draft.level, "category": draft.category}
    if location.near_boundary:
        details["near_boundary"] = True
    state, _ = transition(state, Action.CREATE, SYSTEM, draft.created_at, note=draft.title, details=details)
    state, _ = transition(state, Action.DISPATCH, SYSTEM, draft.created_at, note="按属地自动派遣",
                          township_code=draft.township.code)
    for unit in assists:
        if unit != draft.township.code:
            state, _ = transition(state, Action.ASSIST, SYSTEM, draft.created_at, note="行业主管部门协办",
                                  township_code=unit)
    return state


def plan(draft: Draft, location: Location, townships: Sequence[Township], assists: Sequence[str], now: datetime,
         seed: int) -> Planned:
    """The moves of one incident after it was opened, each checked on the pure lifecycle."""
    rng = random.Random(f"{SOURCE_PREFIX}{seed}:{draft.n}:story")
    story = _Story(opened(draft, location, assists), draft.created_at, now, rng)
    if location.near_boundary:
        story.move(timedelta(minutes=rng.uniform(1, 4)), Action.CONFIRM_AREA, DESK, CONFIRM_NOTE)
    fate = draft.fate
    sign = story.windows()[0]
    if fate in (Fate.RETURN_OTHER, Fate.RETURN_SAME):
        staff = staff_of(story.unit)
        suggested = _elsewhere(rng, draft.township, townships)
        if rng.random() < 0.3:
            story.move(_frac(rng, sign, 0.1, 0.6), Action.SIGN, staff, details=SIMULATED)
        story.move(_frac(rng, sign, 0.1, 0.6), Action.RETURN, staff, RETURN_NOTE.format(name=suggested.name),
                   details={"suggested": suggested.code, **SIMULATED})
        again = draft.township if fate is Fate.RETURN_SAME else suggested
        note = RETURN_WRONG_NOTE if fate is Fate.RETURN_SAME else REDISPATCH_NOTE.format(name=again.name)
        story.move(timedelta(minutes=rng.uniform(5, 40)), Action.DISPATCH, DESK, note, again.code, SIMULATED)
        same = fate is Fate.RETURN_SAME
        _work(story, rng, draft, late_sign=same and draft.late_sign, late_finish=same and draft.late_finish)
    elif fate is Fate.TRANSFER:
        departments = [u for u in assists if u != story.unit]
        if departments and rng.random() < 0.3:
            target_unit, note = rng.choice(departments), TRANSFER_DEPARTMENT_NOTE
        else:
            town = _elsewhere(rng, draft.township, townships)
            target_unit, note = town.code, TRANSFER_NOTE.format(name=town.name)
        signed = rng.random() < 0.4
        if signed:
            story.move(_frac(rng, sign, 0.1, 0.7), Action.SIGN, staff_of(story.unit), details=SIMULATED)
        story.move(_frac(rng, sign, 0.1, 0.8), Action.TRANSFER, DESK, note, target_unit, SIMULATED)
        _work(story, rng, draft)
    elif fate is not Fate.NEVER_SIGNED:
        _work(story, rng, draft, late_sign=draft.late_sign, late_finish=draft.late_finish, reworks=draft.reworks,
              postpone=fate is Fate.POSTPONE)
    story.end()
    return Planned(draft, location, tuple(story.steps), story.state)


def townships_of(layers: Layers) -> list[Township]:
    return [Township(str(code), str(name), str(parent)) for code, name, parent in
            zip(layers.townships["code"], layers.townships["name"], layers.townships["parent_code"], strict=True)]


def has_history(conn: psycopg.Connection) -> bool:
    return conn.execute("SELECT 1 FROM incidents WHERE source_ref LIKE %s LIMIT 1",
                        (f"{SOURCE_PREFIX}%",)).fetchone() is not None


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class _Progress:
    """A line a day, once every writer has written that day's incidents."""

    def __init__(self, say: Callable[[str], None], days: int, reached: list[int]) -> None:
        self.say, self.days = say, days
        self.reached = reached  # per writer: the day of its next incident (``days`` when it has none left)
        self.written = 0
        self.shown = 0  # days reported
        self.lock = threading.Lock()

    def wrote(self, writer: int, next_day: int) -> None:
        with self.lock:
            self.written += 1
            self.reached[writer] = next_day
            while self.shown < min(self.reached):
                self.shown += 1
                self.say(f"history: day {self.shown}/{self.days}, {self.written:,} incidents")


def _write(conn: psycopg.Connection, planned: Sequence[tuple[int, Planned]], days: int, seed: int, now: datetime,
           done: Callable[[int], None], failed: threading.Event) -> list[int]:
    """Open and move each planned incident (with its day), in order; returns their ids. After each one ``done``
    hears the day of the next (``days`` after the last). Stops early once another writer has ``failed``."""
    try:
        return _write_all(conn, planned, days, seed, now, done, failed)
    except BaseException:
        failed.set()
        raise


def _write_all(conn: psycopg.Connection, planned: Sequence[tuple[int, Planned]], days: int, seed: int,
               now: datetime, done: Callable[[int], None], failed: threading.Event) -> list[int]:
    first_outbox = conn.execute("SELECT coalesce(max(id), 0) FROM mqtt_outbox").fetchone()
    assert first_outbox is not None
    ids: list[int] = []
    for k, (_, p) in enumerate(planned):
        if failed.is_set():
            return ids  # rolled back with the rest: the failure is the other writer's to report
        d = p.draft
        incident_id = open_incident(
            conn, title=d.title, category=d.category, level=d.level, source_kind=d.source_kind,
            location=p.location, now=d.created_at, source_ref=f"{SOURCE_PREFIX}{seed}:{d.n}", route_to=d.township.code)
        assert incident_id is not None  # the lock and the check before: no history incident exists yet
        ids.append(incident_id)
        if d.category == "hotline":
            _hotspot_tickets(conn, incident_id, d, p.location, seed, now)
        for step in p.steps:
            act(conn, incident_id, step.action, step.actor, step.at, note=step.note,
                township_code=step.township_code, details=step.details, source=step.source)
        done(planned[k + 1][0] if k + 1 < len(planned) else days)
    # What these moves queued for the township apps is history: announced back then, not now.
    conn.execute("UPDATE mqtt_outbox SET published_at = now() WHERE id > %s AND published_at IS NULL"
                 " AND (payload->>'incident_id')::bigint = ANY(%s)", (first_outbox[0], ids))
    return ids


def _hotspot_tickets(conn: psycopg.Connection, incident_id: int, d: Draft, loc: Location, seed: int,
                     now: datetime) -> None:
    """A history hotspot's tickets (``simulator.tickets.history``), stored as ingest stores the live ones (the
    event, its reporter apart) and listed under its incident as the engine lists them; tagged with the incident's
    areas (they lie within a few hundred metres of its point)."""
    assert loc.lon is not None and loc.lat is not None
    past = tickets.history(seed, d.n, d.subject, loc.lon, loc.lat, d.created_at, now)
    keys = [(HOTLINE_SYSTEM, f"history-{seed}-{d.n}-{k}", p.ts) for k, p in enumerate(past)]
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO events (ts, source_system, event_id, dept, category, title, lon, lat, district_code,"
            " township_code, grid_code, near_boundary, payload) VALUES (%s, %s, %s, %s, 'hotline', %s, %s, %s, %s,"
            " %s, %s, %s, %s)",
            [(ts, system, event_id, HOTLINE_DEPT, p.drawn.complaint, p.drawn.lon, p.drawn.lat, loc.district_code,
              loc.township_code, loc.grid_code, loc.near_boundary,
              Jsonb({"event_id": event_id, "ts": ts.isoformat(), "category": "hotline", "title": p.drawn.complaint,
                     "description": p.drawn.text, "lon": p.drawn.lon, "lat": p.drawn.lat, "level": None}))
             for (system, event_id, ts), p in zip(keys, past, strict=True)])
        cur.executemany("INSERT INTO event_reporters (ts, source_system, event_id, name, phone) VALUES (%s, %s, %s,"
                        " %s, %s)", [(ts, system, event_id, p.caller, p.phone)
                                     for (system, event_id, ts), p in zip(keys, past, strict=True)])
    attach(conn, incident_id, keys, d.created_at)


def write_history(dsn: str, now: datetime, days: int = DEFAULT_DAYS, seed: int = DEFAULT_SEED, *,
                  near_m: float = DEFAULT_NEAR_M, city: str = "chenzhou",
                  progress: Callable[[str], None] | None = _stderr) -> int:
    """Write ``days`` days of incidents ending at ``now`` through the lifecycle, and the readings, dead letters
    and ingest counters of those days (``simulator.history_readings``); returns how many incidents, 0 when
    the database already has history (nothing is written then).

    ``WRITERS`` connections write incidents at once (each move is a few round trips; two keep the client and
    the server busy), each its share of the townships in its own transaction, and one more COPYs the
    readings; they commit together once all are written, and none does when one fails.
    """
    started = time.monotonic()
    say = progress or (lambda _line: None)
    with psycopg.connect(dsn) as conn:  # every later `up` of the database: say so before loading anything
        if has_history(conn):
            say(ALREADY)
            return 0
    layers = load_active_layers(dsn)
    towns = townships_of(layers)
    start = now - timedelta(days=days)
    with contextlib.ExitStack() as stack:
        conns = [stack.enter_context(psycopg.connect(dsn)) for _ in range(WRITERS + 1)]
        for conn in conns:
            stack.enter_context(conn.transaction())  # left in reverse: an error rolls every one back
        conns[0].execute("SELECT pg_advisory_xact_lock(hashtext('cityops simulator history'))")
        if has_history(conns[0]):
            say(ALREADY)  # another `up` wrote it meanwhile
            return 0
        drafts = draw(towns, now, days, seed)
        locations = place(drafts, layers, seed, near_m)
        assists = {category: units_for(conns[0], category) for category in {d.category for d in drafts}}
        planned = [(min(days - 1, (d.created_at - start) // timedelta(days=1)), plan(d, loc, towns, assists[d.category],
                                                                                    now, seed))
                   for d, loc in zip(drafts, locations, strict=True)]
        writer_of = {t.code: i % WRITERS for i, t in enumerate(sorted(towns, key=lambda t: t.code))}
        parts = [[p for p in planned if writer_of[p[1].draft.township.code] == w] for w in range(WRITERS)]
        tally = _Progress(say, days, [part[0][0] if part else days for part in parts])
        failed = threading.Event()
        readings_conn = conns[WRITERS]
        with ThreadPoolExecutor(WRITERS + 1) as pool:
            readings = pool.submit(_write_readings, readings_conn, start, now, storm_days(towns, days, seed), seed,
                                   city, say, failed)
            futures = [pool.submit(_write, conn, part, days, seed, now, functools.partial(tally.wrote, w), failed)
                       for w, (conn, part) in enumerate(zip(conns[:WRITERS], parts, strict=True))]
            ids = [i for f in futures for i in f.result()]
            rows = readings.result()
    refresh_aggregates(dsn, start, now)
    say(f"history: {len(ids):,} incidents and {rows:,} readings over {days} days written in"
        f" {time.monotonic() - started:.1f} s")
    return len(ids)


def _write_readings(conn: psycopg.Connection, start: datetime, now: datetime, storms: dict[int, str], seed: int,
                    city: str, say: Callable[[str], None], failed: threading.Event) -> int:
    """The readings up to ``now``, or up to the first the system stored itself (a database that ran before it
    had history: its own data is not doubled)."""
    try:
        first = conn.execute("SELECT min(ts) FROM telemetry").fetchone()
        end = min(now, first[0]) if first and first[0] else now
        devices = frame(conn.execute("SELECT device_id, device_type, dept, lon, lat, district_code, township_code,"
                                     " grid_code, expected_interval_s FROM devices"))
        data = history_readings.frames(devices, start, end, storms, seed, city)
        return history_readings.write_readings(conn, data, start, say)
    except BaseException:
        failed.set()
        raise


def refresh_aggregates(dsn: str, start: datetime, end: datetime) -> None:
    """On TimescaleDB, materialise the continuous aggregates over the history: their refresh policies look
    back only days, so the older weeks would otherwise stay empty there. Plain PostgreSQL's are views."""
    with psycopg.connect(dsn, autocommit=True) as conn:  # a refresh cannot run inside a transaction
        if conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'").fetchone() is None:
            return
        cagg = [r[0] for r in conn.execute("SELECT view_name FROM timescaledb_information.continuous_aggregates"
                                           " WHERE view_name IN ('telemetry_1m', 'telemetry_1h')")]
        for view in cagg:
            conn.execute(f"CALL refresh_continuous_aggregate('{view}', %s, %s)", (start, end))
