"""一张图: the big screen (the city's; a district desk's of its district alone, opening on it). Boundaries
as the base map, drill-down district → township → grid, the map layers of ``dashboard.map`` (toggled
points and heat, one choropleth colouring the areas), KPIs of the day, a rolling feed of warnings and the
last day's trend.

The map is built once per page load, with its data, in the page's layout (no callback after the
page to fill it). Every 3 s the refresh callback asks the database what changed (a cheap
fingerprint of the incident and warning tables; the live layers every ~10 s), reads and
styles the layers that are due and sends a ``Patch`` of only the trace properties whose
content differs from what the screen shows, never the boundaries. Fingerprints of what the
screen shows travel in a small store, so any dashboard worker can answer the next tick.

``load`` reads (given ``now``), ``views`` draws (pure), ``callbacks`` connects them to the browser.
"""

from __future__ import annotations

import dash
from dash import html

from dashboard import auth
from dashboard.components import session_user
from dashboard.context import get_read_data
from dashboard.shell import page_title
from i18n.timefmt import utcnow

from . import callbacks, load, views

__all__ = ["callbacks", "layout", "load", "views"]  # imported here, the callbacks register


def layout(**_: object) -> html.Div:
    lang = auth.current_lang()
    user = session_user(lang, *callbacks.ROLES)
    if not isinstance(user, auth.SessionUser):
        return user
    home = load.home(load.district_of(user))
    return views.page(load.first(load.screen(get_read_data(), user), utcnow(), home), lang,
                      dash.get_asset_url("map-dark.json"), home)


# Registered after ``layout`` exists: pages are imported as ordinary modules, not scanned by Dash.
dash.register_page(__name__, path="/", title=page_title("nav.map"), order=0, layout=layout)
