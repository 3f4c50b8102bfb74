"""考核: townships, departments or districts ranked on the figures of ``alerts.assessment`` for a period,
each figure with its definition and the incidents behind it, and the Excel a leader takes to the monthly
meeting. ``load`` reads and works out, ``views`` draws, ``callbacks`` answer the browser.
"""

from __future__ import annotations

import dash
from dash.development.base_component import Component

from dashboard.components import for_roles
from dashboard.context import get_read_data
from dashboard.shell import page_title
from i18n.labels import Lang
from i18n.timefmt import utcnow

from . import callbacks, load, views

__all__ = ["callbacks", "layout", "load", "views"]  # imported here, the callbacks register


def _page(district: str | None, lang: Lang) -> Component:
    """It opens on the last 30 days of the townships (a district desk's: its own)."""
    data, now = get_read_data(), utcnow()
    first = load.Query("30d", "township", None, None)
    periods = [(key, load.period_label(key, lang)) for key, _ in load.periods(now)]
    return views.page(load.assess(data, first, now, district), periods, data.categories(), lang,
                      load.kinds(district))


def layout(**_: object) -> Component:
    return for_roles(callbacks.ROLES, lambda user, lang: _page(load.district_of(user), lang))


dash.register_page(__name__, path="/assessment", title=page_title("nav.assessment"), order=4, layout=layout)
