"""系统管理 (admin only): users and roles (with a new-user form), alert rules, boundary layers, devices.

Read-mostly for now: rules are config as code (alerts/rules.toml, validated whole by
``alerts.rules.load_rules``), layers load with ``python -m layers``. The one write is
creating a user, validated on the server (``dashboard.users``). ``load`` reads, ``views``
draws, ``callbacks`` answer the browser.
"""

from __future__ import annotations

import dash
from dash.development.base_component import Component

from dashboard.components import for_roles
from dashboard.context import get_data
from dashboard.shell import page_title
from i18n.timefmt import utcnow

from . import callbacks, load, views

__all__ = ["callbacks", "layout", "load", "views"]  # imported here, the callbacks register


def layout(**_: object) -> Component:
    return for_roles(callbacks.ROLES, lambda _user, lang: views.page(load.page(get_data(), utcnow()), lang))


# Registered after ``layout`` exists: pages are imported as ordinary modules, not scanned by Dash.
dash.register_page(__name__, path="/admin", title=page_title("nav.admin"), order=6, layout=layout)
