"""A single bad message in a batch never costs the good ones.

When the database refuses a batch because of what one message holds (a NUL character in
an event title, say), the batch is halved and each half written on its own, down to the
single message, which is then dead-lettered as ``db_rejected``. One bad message in 5,000
costs about 2·log2(5,000) ≈ 26 extra transactions, not 5,000. Errors that are not the
message's fault (connection lost, deadlock, a missing column) are not refusals: they go
up to the caller, which holds the batch unacknowledged and retries.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import psycopg

T = TypeVar("T")
R = TypeVar("R")

# SQLSTATE classes caused by the data itself: 22 data exception (invalid text, numeric out of
# range), 23 integrity constraint violation, 54 program limit exceeded (e.g. an index row too big).
_REFUSAL_CLASSES = ("22", "23", "54")


def refused_by_database(exc: BaseException) -> bool:
    """True when the error is the message's own fault, so retrying it can never succeed."""
    if isinstance(exc, UnicodeError):  # client side: text that cannot be encoded (a lone surrogate)
        return True
    if not isinstance(exc, psycopg.Error):
        return False
    if exc.sqlstate is not None:
        return exc.sqlstate[:2] in _REFUSAL_CLASSES
    # No SQLSTATE: raised by psycopg itself before sending, e.g. "text fields cannot contain NUL".
    return isinstance(exc, psycopg.DataError)


def write_isolating(
    items: Sequence[T],
    write: Callable[[Sequence[T]], R],
    refuse: Callable[[T, BaseException], R],
    combine: Callable[[R, R], R],
    refused: Callable[[BaseException], bool] = refused_by_database,
) -> R:
    """``write(items)``; if refused, write each half the same way; a lone refused item goes to ``refuse``."""
    try:
        return write(items)
    except Exception as exc:
        if not refused(exc) or not items:
            raise
        if len(items) == 1:
            return refuse(items[0], exc)
    mid = len(items) // 2
    return combine(write_isolating(items[:mid], write, refuse, combine, refused),
                   write_isolating(items[mid:], write, refuse, combine, refused))
