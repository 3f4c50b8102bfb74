"""值班指挥: verify or send back what townships reported, dispatch what is still unassigned,
transfer, add an assisting township, postpone and resume, merge duplicates, confirm the
area of incidents near a township border (确认属地), and send directives (政令一键智达) and
watch who has acknowledged them.

Duty officers (role command) act; leaders and admins see the same queues read-only.
``load`` reads, ``views`` and ``panels`` draw; ``callbacks`` (the queues and one-click actions), ``act``
(the action panel) and ``directives`` answer the browser.
"""

from __future__ import annotations

import dash
from dash import html
from dash.development.base_component import Component

from alerts.lifecycle import Role
from dashboard import auth
from dashboard.components import for_roles
from dashboard.context import get_data
from dashboard.shell import page_title
from i18n.labels import Lang
from i18n.timefmt import utcnow

from . import act, callbacks, directives, load, views

__all__ = ["act", "callbacks", "directives", "layout", "load", "views"]  # imported here, the callbacks register


def _page(user: auth.SessionUser, lang: Lang) -> html.Div:
    can_act = user.role in callbacks.ACT_ROLES
    can_issue = user.role is Role.COMMAND  # 政令一键智达: the city's
    return views.page(load.page(get_data(), utcnow(), can_act=can_act, district=load.district_of(user),
                                can_issue=can_issue), lang, can_act, can_issue)


def layout(**_: object) -> Component:
    return for_roles(callbacks.VIEW_ROLES, _page)


# Registered after ``layout`` exists: pages are imported as ordinary modules, not scanned by Dash.
dash.register_page(__name__, path="/command", title=page_title("nav.command"), order=2, layout=layout)
