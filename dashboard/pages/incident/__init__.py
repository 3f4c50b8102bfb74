"""/incident/<id>: one incident's details and its whole history, read from incident_log only.

Township staff may open only incidents that are or were routed to their own township. A 12345
ticket's reporter shows whole to the command center and the township handling it, masked to everyone
else. ``load`` reads, ``views`` draws, ``callbacks`` answers the Excel export.
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


def layout(incident_id: str | None = None, **_: object) -> Component:
    def page(user: auth.SessionUser, lang: Lang) -> html.Div:
        record = load.record(get_data(), load.incident_number(incident_id), user, utcnow(), auth.client_address())
        return views.page(record, lang) if record is not None else views.not_found(lang)

    return for_roles(callbacks.ROLES, page)


# Registered after ``layout`` exists: pages are imported as ordinary modules, not scanned by Dash.
dash.register_page(__name__, path_template="/incident/<incident_id>", title=page_title("incident.title"),
                   order=3, layout=layout)
