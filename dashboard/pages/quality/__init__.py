"""数据质量: are the feeds healthy? Devices online per department and type, dead letters by reason.

Starts simple on purpose: two aggregates and the newest dead letters, refreshed every
30 s. The monthly data-quality report (数据质量月报, a Word document from ``reports``) is
downloaded here for a chosen month: this one so far, last month, or up to a year back.
``load`` reads, ``views`` draws, ``callbacks`` answer the browser.
"""

from __future__ import annotations

import dash
from dash.development.base_component import Component

from dashboard.components import for_roles
from dashboard.context import get_read_data
from dashboard.shell import page_title
from i18n.timefmt import utcnow

from . import callbacks, load, views

__all__ = ["callbacks", "layout", "load", "views"]  # imported here, the callbacks register


def layout(**_: object) -> Component:
    return for_roles(callbacks.ROLES, lambda user, lang: views.page(
        load.page(get_read_data(), utcnow(), load.district_of(user)), lang))


# Registered after ``layout`` exists: pages are imported as ordinary modules, not scanned by Dash.
dash.register_page(__name__, path="/quality", title=page_title("nav.quality"), order=5, layout=layout)
