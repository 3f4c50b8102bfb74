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

from dashboard import auth
from dashboard.components import session_user
from dashboard.context import get_data
from dashboard.shell import page_title
from i18n.timefmt import utcnow

from . import callbacks, directives, load, views

__all__ = ["callbacks", "directives", "layout", "load", "views"]  # imported here, the callbacks register


def layout(**_: object) -> html.Div:
    lang = auth.current_lang()
    user = session_user(lang, *callbacks.ROLES)
    if not isinstance(user, auth.SessionUser):
        return user
    assert user.township_code is not None  # require() refuses a township account without one
    return views.page(load.page(get_data(), user.township_code, utcnow()), lang)


# Registered after ``layout`` exists: pages are imported as ordinary modules, not scanned by Dash.
dash.register_page(__name__, path="/township", title=page_title("nav.township"), order=1, layout=layout)
