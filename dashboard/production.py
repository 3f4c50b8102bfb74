"""What a production start refuses: the demo's session key and the demo accounts' passwords.

A start is the demo's when ``CITYOPS_DEMO=1`` (``./cityops.sh up`` sets it for the processes it
starts); any other start is production's, and it exits with a clear message rather than serve a
command center whose sessions anyone can forge or whose accounts anyone can guess.
"""

from __future__ import annotations

import psycopg
from werkzeug.security import check_password_hash

from cityops.settings import DEMO_SECRET_KEY
from dashboard.auth import DEMO_USERS, DISTRICT_PASSWORD, TOWNSHIP_PASSWORD
from store.departments import DEMO_PASSWORD as DEPARTMENT_PASSWORD


def demo_secrets(secret_key: str, conn: psycopg.Connection) -> list[str]:
    """Why this start may not serve production (empty: it may)."""
    found = []
    if secret_key == DEMO_SECRET_KEY or not secret_key:
        found.append("CITYOPS_SECRET_KEY is unset or the demo's: set a long random value")
    for username, password, _display, _role in DEMO_USERS:
        row = conn.execute("SELECT password_hash FROM users WHERE username = %s AND NOT disabled",
                           (username,)).fetchone()
        if row and check_password_hash(row[0], password):
            found.append(f"account {username} still has its demo password")
    # Seeding hashes each shared unit password once, so the distinct hashes are few.
    for role, password in (("township", TOWNSHIP_PASSWORD), ("department", DEPARTMENT_PASSWORD),
                           ("district", DISTRICT_PASSWORD)):
        hashes = conn.execute("SELECT password_hash, count(*) FROM users WHERE role = %s AND NOT disabled"
                              " GROUP BY 1", (role,)).fetchall()
        demo = sum(n for h, n in hashes if check_password_hash(h, password))
        if demo:
            found.append(f"{demo} {role} accounts still have the demo password")
    return found
