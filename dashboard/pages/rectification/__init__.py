"""问题清单 (七张问题清单, issue 12): the recurring problems found at 核查结案 (one root cause again and again in a
grid or a category), each with its owner unit and deadline; one problem's timeline from its own log; the owner
unit signs its 整改报告, a desk accepts it (验收通过) or returns it (验收退回), and may turn a grid's problem into a
watch rule (转预警预防). ``load`` reads, ``views`` draws, ``callbacks`` answer the browser."""

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
    return views.page(load.listing(get_data(), user), utcnow(), lang)


def layout(**_: object) -> Component:
    return for_roles(callbacks.VIEW_ROLES, _page)


dash.register_page(__name__, path="/rectification", title=page_title("nav.rectification"), order=7, layout=layout)
