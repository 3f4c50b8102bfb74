"""镇街工作台: a township's own queue, sign-for, feedback (text, people evacuated, photo), send back
(with the reason and, optionally, the township it should go to), and the directives
(政令) addressed to it, acknowledged with one button.

Works at phone width: one column of cards, large buttons. The list shows only incidents
whose ``township_code`` is the session's, and every action re-checks that on the server.
An incident near a township border whose area the command center has not confirmed says
that it may not be theirs. ``load`` reads, ``views`` draws, ``callbacks`` and ``directives``
answer the browser.
"""

from __future__ import annotations

import dash
from dash import html
from dash.development.base_component import Component

from dashboard import auth
from dashboard.components import for_roles
from dashboard.context import get_data
from dashboard.shell import page_title
from i18n.labels import Lang
from i18n.timefmt import utcnow

from . import callbacks, directives, load, views

__all__ = ["callbacks", "directives", "layout", "load", "views"]  # imported here, the callbacks register


def _page(user: auth.SessionUser, lang: Lang) -> html.Div:
    assert user.township_code is not None  # require() refuses a township account without one
    return views.page(load.page(get_data(), user.township_code, utcnow()), lang)


def layout(**_: object) -> Component:
    return for_roles(callbacks.ROLES, _page)


# Registered after ``layout`` exists: pages are imported as ordinary modules, not scanned by Dash.
dash.register_page(__name__, path="/township", title=page_title("nav.township"), order=1, layout=layout)
