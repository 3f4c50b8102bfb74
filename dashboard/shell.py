"""The frame around every page (navigation, user, language, logout) and small shared widgets."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

import dash
from dash import ClientsideFunction, Input, Output, State, clientside_callback, dcc, html

from alerts.lifecycle import Role
from dashboard import auth
from i18n.labels import Lang, role_label, t


class Ids(StrEnum):
    LANG_LINK = "shell-lang-link"


# Which pages each role sees in the navigation; the pages enforce the same rule themselves.
NAV: tuple[tuple[str, str, frozenset[Role]], ...] = (
    ("/", "nav.map", frozenset({Role.COMMAND, Role.DISTRICT, Role.LEADER, Role.ADMIN})),
    ("/command", "nav.command", frozenset({Role.COMMAND, Role.DISTRICT, Role.LEADER, Role.ADMIN})),
    ("/township", "nav.township", frozenset({Role.TOWNSHIP, Role.DEPARTMENT})),
    ("/grid", "nav.grid", frozenset({Role.GRID})),
    ("/leader", "nav.leader", frozenset({Role.LEADER, Role.COMMAND, Role.DISTRICT, Role.ADMIN})),
    ("/assessment", "nav.assessment", frozenset({Role.LEADER, Role.COMMAND, Role.DISTRICT, Role.ADMIN})),
    ("/quality", "nav.quality", frozenset({Role.LEADER, Role.COMMAND, Role.DISTRICT, Role.ADMIN})),
    ("/rectification", "nav.rectification", frozenset({Role.COMMAND, Role.DISTRICT, Role.LEADER, Role.ADMIN,
                                                        Role.TOWNSHIP, Role.DEPARTMENT})),
    ("/admin", "nav.admin", frozenset({Role.ADMIN})),
)


def navbar(user: auth.SessionUser | None, lang: Lang) -> html.Header:
    links = [dcc.Link(t(key, lang), href=path, className="nav-link")
             for path, key, roles in NAV if user is not None and user.role in roles]
    other = "en" if lang == "zh" else "zh"
    right: list[dash.development.base_component.Component] = []
    if user is not None:
        role = role_label(user.role, lang)
        who = user.username if user.display_name == role else user.display_name
        right.append(html.Span(f"{who} · {role}", className="nav-user", id="nav-user"))
        # Every role's own password, beside the name (still shown on a phone, where the name is not).
        right.append(dcc.Link(t("nav.account", lang), href=auth.ACCOUNT_PAGE, className="nav-link", id="nav-account"))
    right.append(html.A(t("nav.switch_lang", lang), href=f"/lang/{other}", id=Ids.LANG_LINK, className="nav-link"))
    if user is not None:
        right.append(html.A(t("nav.logout", lang), href="/logout", className="nav-link", id="nav-logout"))
    return html.Header([
        html.Div(t("app.title", lang), className="nav-title"),
        html.Nav(links, className="nav-links"),
        html.Div(right, className="nav-right"),
    ], className="navbar")


def page_title(key: str) -> Callable[..., str]:
    """A page title in the session's language (Dash calls it per page load, inside the request)."""
    def title(**_: object) -> str:
        lang = auth.current_lang()
        return f"{t(key, lang)} · {t('app.title', lang)}"
    return title


def layout() -> html.Div:
    """Called per page load (inside the request), so the bar shows this session's user and language."""
    user = auth.current_user()
    lang = auth.current_lang()
    return html.Div([navbar(user, lang), dash.page_container], className=f"app lang-{lang}")


# The language link returns to the page the user is on; clientside: no round trip.
clientside_callback(
    ClientsideFunction(namespace="cityops", function_name="langHref"),
    Output(Ids.LANG_LINK, "href"),
    Input("_pages_location", "pathname"),
    State(Ids.LANG_LINK, "href"),
)

