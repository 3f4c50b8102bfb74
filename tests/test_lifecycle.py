"""The incident state machine as tables of cases, with a fixed clock."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from alerts.lifecycle import (
    MOVES,
    SYSTEM,
    Action,
    Actor,
    IllegalMove,
    Incident,
    Refusal,
    Role,
    Status,
    replay,
    transition,
)

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
T1 = "431002001"
T2 = "431002002"
COMMAND = Actor("zhihui", Role.COMMAND)
STAFF = Actor("zj431002001", Role.TOWNSHIP, T1)
OTHER_STAFF = Actor("zj431002002", Role.TOWNSHIP, T2)


def at(status: Status | None, township: str | None = T1, level: int = 2) -> Incident:
    return Incident(id=1, status=status, level=level, township_code=township)


@pytest.mark.parametrize(
    ("start", "action", "actor", "kwargs", "expected"),
    [
        (None, Action.CREATE, SYSTEM, {}, Status.NEW),
        (Status.NEW, Action.DISPATCH, SYSTEM, {"township_code": T1}, Status.DISPATCHED),
        (Status.NEW, Action.DISPATCH, COMMAND, {"township_code": T2}, Status.DISPATCHED),
        (Status.DISPATCHED, Action.SIGN, STAFF, {}, Status.SIGNED),
        (Status.SIGNED, Action.PROGRESS, STAFF, {"note": "已到场"}, Status.IN_PROGRESS),
        (Status.SIGNED, Action.FEEDBACK, STAFF, {"note": "已关阀"}, Status.RESOLVED),
        (Status.IN_PROGRESS, Action.FEEDBACK, STAFF, {"note": "已处置"}, Status.RESOLVED),
        (Status.RESOLVED, Action.VERIFY, COMMAND, {}, Status.CLOSED),
        (Status.RESOLVED, Action.REWORK, COMMAND, {"note": "现场仍有异味"}, Status.IN_PROGRESS),
        (Status.DISPATCHED, Action.RETURN, STAFF, {"note": "不属本镇"}, Status.NEW),
    ],
)
def test_allowed_moves(start: Status | None, action: Action, actor: Actor, kwargs: dict[str, str],
                       expected: Status) -> None:
    nxt, entry = transition(at(start), action, actor, NOW, **kwargs)
    assert nxt.status is expected
    assert (entry.from_status, entry.to_status, entry.actor, entry.role, entry.at) == (
        start, expected, actor.name, actor.role, NOW)


@pytest.mark.parametrize(
    ("start", "action", "actor", "kwargs", "refusal"),
    [
        (Status.SIGNED, Action.SIGN, STAFF, {}, Refusal.WRONG_STATE),  # double click: signed once
        (Status.DISPATCHED, Action.SIGN, OTHER_STAFF, {}, Refusal.NOT_YOUR_TOWNSHIP),
        (Status.DISPATCHED, Action.SIGN, COMMAND, {}, Refusal.WRONG_ROLE),
        (Status.RESOLVED, Action.VERIFY, STAFF, {}, Refusal.WRONG_ROLE),
        (Status.SIGNED, Action.VERIFY, COMMAND, {}, Refusal.WRONG_STATE),  # nothing closed unverified
        (Status.SIGNED, Action.FEEDBACK, STAFF, {"note": "  "}, Refusal.NOTE_REQUIRED),
        (Status.RESOLVED, Action.REWORK, COMMAND, {}, Refusal.NOTE_REQUIRED),
        (Status.NEW, Action.DISPATCH, COMMAND, {}, Refusal.TARGET_REQUIRED),
        (Status.CLOSED, Action.REWORK, COMMAND, {"note": "x"}, Refusal.WRONG_STATE),
        (Status.DISPATCHED, Action.RETURN, STAFF, {}, Refusal.NOTE_REQUIRED),
    ],
)
def test_refused_moves(start: Status, action: Action, actor: Actor, kwargs: dict[str, str],
                       refusal: Refusal) -> None:
    with pytest.raises(IllegalMove) as err:
        transition(at(start), action, actor, NOW, **kwargs)
    assert err.value.refusal is refusal


def test_dispatch_sets_deadlines_by_level() -> None:
    red, _ = transition(at(Status.NEW, None, level=1), Action.DISPATCH, SYSTEM, NOW, township_code=T1)
    blue, _ = transition(at(Status.NEW, None, level=4), Action.DISPATCH, SYSTEM, NOW, township_code=T1)
    assert red.township_code == T1
    assert red.sign_deadline == NOW + timedelta(minutes=15)
    assert blue.sign_deadline is not None and red.sign_deadline < blue.sign_deadline
    assert red.finish_deadline is not None and blue.finish_deadline is not None
    assert red.finish_deadline < blue.finish_deadline


def test_rework_is_counted() -> None:
    nxt, _ = transition(at(Status.RESOLVED), Action.REWORK, COMMAND, NOW, note="照片不清晰")
    again, _ = transition(replace_status(nxt, Status.RESOLVED), Action.REWORK, COMMAND, NOW, note="仍未处置")
    assert (nxt.rework_count, again.rework_count) == (1, 2)


def replace_status(incident: Incident, status: Status) -> Incident:
    return Incident(incident.id, status, incident.level, incident.township_code, incident.rework_count)


def _random_history(rng: random.Random) -> tuple[int, list, Incident]:
    """Walk the table of moves at random with actors allowed to make each move."""
    level = rng.randint(1, 4)
    state = Incident(None, None, level, None)
    entries = []
    now = NOW
    for _ in range(rng.randint(1, 25)):
        options = [a for a, m in MOVES.items() if state.status in m.sources]
        if not options:
            break
        action = rng.choice(options)
        role = rng.choice(sorted(MOVES[action].roles))
        actor = Actor(f"u-{role}", role, state.township_code if role is Role.TOWNSHIP else None)
        now += timedelta(minutes=rng.randint(1, 90))
        state, entry = transition(state, action, actor, now, note="说明", township_code=rng.choice([T1, T2]))
        entries.append(entry)
    return level, entries, state


def test_replaying_the_log_rebuilds_every_state() -> None:
    rng = random.Random(7)
    for _ in range(2000):
        level, entries, final = _random_history(rng)
        rebuilt = replay(level, entries)
        assert (rebuilt.status, rebuilt.township_code, rebuilt.rework_count, rebuilt.sign_deadline) == (
            final.status, final.township_code, final.rework_count, final.sign_deadline)
