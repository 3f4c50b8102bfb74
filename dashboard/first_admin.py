"""``python -m dashboard --create-admin NAME``: the first administrator of a new database.

A production database has no accounts, and the dashboard's own pages are the only other way to create one.
This creates the first 系统管理员 with the same rules and the same write as the admin page (the name and the
password checked as the form checks them, the password changed at the first login, an ``auth_events`` row
naming the command), and refuses once an enabled administrator exists: from then on accounts are made on
the admin page, where every change is someone's.
"""

from __future__ import annotations

import importlib
from datetime import UTC, datetime

import psycopg

from alerts.lifecycle import Role
from dashboard.actions import InvalidInput
from i18n.labels import Lang, t
from store import users

ACTOR = "cli:create-admin"  # who the login log says made the account


class Refused(Exception):
    """The account was not created; the message says why, in the user's language."""


def create_admin(dsn: str, secret_key: str, username: str, display_name: str, password: str, again: str,
                 lang: Lang, now: datetime | None = None) -> None:
    """Create the first administrator over the dashboard's own database role; raises ``Refused``."""
    from dashboard import users as forms
    from dashboard.app import create_app

    try:
        new = forms.validate(username=username, display_name=display_name, password=password, password2=again,
                             role=Role.ADMIN.value, township=None, townships=())
    except InvalidInput as exc:
        raise Refused(t(exc.key, lang)) from None
    with psycopg.connect(dsn) as conn:
        if users.enabled_admins(conn):
            raise Refused(t("admin.cli.exists", lang))
    app = create_app(dsn, secret_key=secret_key)  # the admin pages' modules need the app they register with
    try:
        change = importlib.import_module("dashboard.pages.admin.change")
        with psycopg.connect(dsn) as conn:
            if users.get_user(conn, new.username) is not None:
                raise Refused(t("err.username_taken", lang))
            try:
                change.create(conn, new, change.By(ACTOR, "local", now or datetime.now(UTC)))
            except InvalidInput as exc:
                raise Refused(t(exc.key, lang)) from None
    finally:
        from dashboard.context import EXTENSION

        app.server.extensions[EXTENSION].close()
