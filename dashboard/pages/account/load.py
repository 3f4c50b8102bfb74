"""What the 修改密码 page reads: whether an admin set the account's password (then it says so)."""

from __future__ import annotations

from dashboard.data import Data
from store import users


def must_change(data: Data, username: str) -> bool:
    with data.pool.connection() as conn:
        return users.must_change_password(conn, username)
