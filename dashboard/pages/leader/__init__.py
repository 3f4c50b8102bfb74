"""领导驾驶舱: trends, overdue incidents, township rankings, any incident's timeline, Excel exports.

One set of filters (time range, district/township, category, level) drives every panel; the
server re-checks them (``filters.parse``) and the role on every callback. ``load`` reads (SQL
aggregates, ``reads_leader``), ``views`` lays them out, ``callbacks`` answer the browser.
"""

from __future__ import annotations

import dash
from dash.development.base_component import Component

from alerts.lifecycle import Role
from dashboard.components import for_roles
from dashboard.context import get_read_data
from dashboard.shell import page_title
from i18n.timefmt import utcnow

from . import callbacks, load, views

__all__ = ["callbacks", "layout", "load", "views"]  # imported here, the callbacks register


def layout(**_: object) -> Component:
    return for_roles(callbacks.ROLES, lambda user, lang: views.page(load.page(
        get_read_data(), utcnow(), user.district_code if user.role is Role.DISTRICT else None), lang))


# Registered after ``layout`` exists: pages are imported as ordinary modules, not scanned by Dash.
dash.register_page(__name__, path="/leader", title=page_title("nav.leader"), order=4, layout=layout)
