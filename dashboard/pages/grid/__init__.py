"""网格巡查: a grid member's phone page (issue 18): a map of its grids and their open incidents; 巡查上报 of
what it sees in its grids (category from the catalogue, the position typed or the phone's, tagged to district,
township and grid by the layers ingest tags with, a note, up to 3 photos), which waits as 待受理 for the desk;
现场核查 of the work done in its grids for the categories that need it (pass, or fail = 返工 with the reason);
its grids' open incidents and its own reports, a declined one with the desk's reason. Every action re-checks on
the server that the grid is the member's. ``load`` reads, ``views`` draws, ``callbacks`` answer the browser.
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

from . import callbacks, load, views

__all__ = ["callbacks", "layout", "load", "views"]  # imported here, the callbacks register


def _page(user: auth.SessionUser, lang: Lang) -> html.Div:
    return views.page(load.page(get_data(), user.grid_codes, user.username, utcnow()), lang,
                      dash.get_asset_url("map-dark.json"))


def layout(**_: object) -> Component:
    return for_roles(callbacks.ROLES, _page)


# Registered after ``layout`` exists: pages are imported as ordinary modules, not scanned by Dash.
dash.register_page(__name__, path="/grid", title=page_title("nav.grid"), order=1, layout=layout)
