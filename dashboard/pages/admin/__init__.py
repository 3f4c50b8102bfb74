"""系统管理 (admin only): accounts (create; set role and township, reset a password, disable, enable),
the lock-outs in force (unlock), the login log, alert rules, boundary layers, devices.

Rules are config as code (alerts/rules.toml, validated whole by ``alerts.rules.load_rules``),
layers load with ``python -m layers``: read only here. The writes are the accounts', checked on
the server (``policy``: what a password must be, who may change whom) and written with their
row of the login log (``change``). ``load`` reads, ``views`` draws, ``callbacks`` answer the browser.
"""

from __future__ import annotations

import dash
from dash.development.base_component import Component

from dashboard.components import for_roles
from dashboard.context import get_data
from dashboard.shell import page_title
from i18n.timefmt import utcnow

from . import callbacks, change, load, views

__all__ = ["callbacks", "layout", "load", "views"]  # imported here, the callbacks register


def layout(**_: object) -> Component:
    return for_roles(callbacks.ROLES,
                     lambda _user, lang: views.page(load.page(get_data(), change.lockout(), utcnow()), lang))


# Registered after ``layout`` exists: pages are imported as ordinary modules, not scanned by Dash.
dash.register_page(__name__, path="/admin", title=page_title("nav.admin"), order=6, layout=layout)
