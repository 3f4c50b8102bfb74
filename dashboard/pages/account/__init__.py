"""修改密码 (every role): a user changes their own password, giving the current one and the new one twice.

Linked from the navigation bar of every page; a login whose password an admin set (a new account, a
reset) lands here until it is changed (``dashboard.routes``). Works at phone width, like the township
desk. ``load`` reads, ``views`` draws, ``callbacks`` answer the browser.
"""

from __future__ import annotations

import dash
from dash.development.base_component import Component

from dashboard import auth
from dashboard.components import for_roles
from dashboard.context import get_data
from dashboard.shell import page_title
from i18n.labels import Lang

from . import callbacks, load, views

__all__ = ["callbacks", "layout", "load", "views"]  # imported here, the callbacks register


def _page(user: auth.SessionUser, lang: Lang) -> Component:
    return views.page(user, load.must_change(get_data(), user.username), lang)


def layout(**_: object) -> Component:
    return for_roles(callbacks.ROLES, _page, changing_password=True)


# Registered after ``layout`` exists: pages are imported as ordinary modules, not scanned by Dash.
dash.register_page(__name__, path=auth.ACCOUNT_PAGE, title=page_title("nav.account"), order=7, layout=layout)
