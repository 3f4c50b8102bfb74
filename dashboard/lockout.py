"""When repeated failed logins lock an account or a client address out. Pure: given the failures and ``now``.

An account is locked after a few failures in a short window, an address after more (one place trying
many accounts). Attempts refused while locked are recorded as lock-outs, not as failures, so hammering
a locked account does not keep it locked for ever; the lock lifts once the window has moved on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class LockoutPolicy:
    per_account: int = 5  # failures of one account within the window
    per_address: int = 20  # failures from one client address within the window
    window: timedelta = timedelta(minutes=15)

    def __post_init__(self) -> None:
        if self.per_account < 1 or self.per_address < 1 or self.window <= timedelta(0):
            raise ValueError(f"lock-out limits must be positive: {self}")


def locked_until(failures: Iterable[datetime], limit: int, window: timedelta, now: datetime) -> datetime | None:
    """The moment the lock lifts, or None when not locked.

    Locked while ``limit`` or more failures lie within ``window`` before ``now``; it lifts when the
    oldest of the last ``limit`` leaves the window.
    """
    recent = sorted(f for f in failures if now - window < f <= now)
    if len(recent) < limit:
        return None
    return recent[len(recent) - limit] + window
