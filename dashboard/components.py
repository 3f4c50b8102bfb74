"""Small shared widgets (level badges, status chips, messages, the denied notice, the pager of long tables)
and what every page's layout and callbacks do alike: check the session's role, tell a click from a
re-render, send nothing when nothing changed, bring an opened panel into view."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from dash import ALL, ClientsideFunction, Input, State, clientside_callback, ctx, html
from dash.development.base_component import Component
from dash.exceptions import PreventUpdate

from alerts.lifecycle import Role
from dashboard import auth
from i18n.labels import Lang, level_label, status_label, t
from i18n.numbers import fmt_int

if TYPE_CHECKING:
    from dashboard.actions import Outcome


def level_badge(level: int, lang: Lang) -> html.Span:
    return html.Span(level_label(level, lang), className=f"badge level-{level}")


def status_chip(status: str, lang: Lang) -> html.Span:
    return html.Span(status_label(status, lang), className=f"chip status-{status}")


def aria(**attributes: str) -> dict[str, Any]:
    """``aria-*`` attributes for an html component: ``html.Div(id=..., **aria(live="polite"))`` is
    ``aria-live="polite"``. Dash takes them as keyword arguments its signatures do not name; a literal
    ``**{"aria-live": ...}`` would be checked against every typed keyword (``hidden``, ``n_clicks``, ...)."""
    return {f"aria-{name}": value for name, value in attributes.items()}


def message(text: str, kind: str = "info") -> html.Div:
    """A feedback line under a form; ``kind`` is info, ok or error (CSS classes of the same name)."""
    return html.Div(text, className=f"msg msg-{kind}", role="alert" if kind == "error" else "status")


def outcome_message(outcome: Outcome) -> html.Div:
    """What an action said, as an ok or error line."""
    return message(outcome.text, "ok" if outcome.ok else "error")


def bump(version: int | None) -> int:
    """The next value of a page's version store, which makes its lists re-read after an action."""
    return (version or 0) + 1


def denied(exc: auth.Denied, lang: Lang) -> html.Div:
    """What a page shows instead of its content when the session may not see it."""
    children: list[html.Div | html.A] = [message(t(exc.key, lang), "error")]
    if exc.key == "auth.required":
        children.append(html.A(t("login.title", lang), href="/login", className="btn btn-primary"))
    return html.Div(children, className="page page-light denied")


def session_user(lang: Lang, *roles: Role, changing_password: bool = False) -> auth.SessionUser | html.Div:
    """The session's user when its role is one of ``roles``; otherwise the denied notice to show instead."""
    try:
        return auth.require(*roles, changing_password=changing_password)
    except auth.Denied as exc:
        return denied(exc, lang)


def only_for(*roles: Role) -> auth.SessionUser:
    """The session's user when its role is one of ``roles``; otherwise nothing is sent (PreventUpdate). For
    the callbacks that open and close a form: other roles are not drawn its buttons, a forged click opens nothing."""
    try:
        return auth.require(*roles)
    except auth.Denied:
        raise PreventUpdate from None


def skip_unchanged(marker: str, shown: object, *triggers: str) -> None:
    """Send nothing (PreventUpdate) when one of ``triggers`` (the timer; a page's version store, bumped after
    an action, refused ones too) fired and ``marker`` is still the one the browser shows: a list not re-sent
    keeps a half-made choice in it, and a phone's data."""
    if marker == shown and ctx.triggered_id in triggers:
        raise PreventUpdate


def for_roles(roles: tuple[Role, ...], draw: Callable[[auth.SessionUser, Lang], Component], *,
              changing_password: bool = False) -> Component:
    """A page's layout for this session (Dash calls it per page load): ``draw(user, lang)`` when the
    user's role is one of ``roles``, the denied notice otherwise (``changing_password``: see ``auth.require``)."""
    lang = auth.current_lang()
    user = session_user(lang, *roles, changing_password=changing_password)
    return draw(user, lang) if isinstance(user, auth.SessionUser) else user


def scroll_into_view(panel_id: str) -> None:
    """Register the clientside callback that scrolls ``panel_id`` into view when it is shown (no round trip)."""
    clientside_callback(
        ClientsideFunction(namespace="cityops", function_name="scrollIntoView"),
        Input(panel_id, "hidden"),
        State(panel_id, "id"),
        prevent_initial_call=True,
    )


def clicked(key: str = "index") -> int | None:
    """``key`` of the pattern-matching id of the button really clicked: None when a re-render fired the callback.

    A list re-rendered by a refresh re-creates its buttons with ``n_clicks`` 0, which Dash
    reports as a change of the input: that is not a click.
    """
    trig = ctx.triggered[0] if ctx.triggered else None
    if not trig or not trig.get("value"):
        return None
    tid = ctx.triggered_id
    value = tid.get(key) if isinstance(tid, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


PAGER = "pager"  # pattern-matching type of the page buttons: {"type": PAGER, "table": ..., "to": page}


def pages_of(rows: int, size: int) -> int:
    """How many pages ``rows`` rows fill (one at least: an empty table is one empty page)."""
    return max(1, -(-rows // size))


def page_in(page: int, rows: int, size: int) -> int:
    """``page`` moved into 1 … the last page (rows may have gone since the button was drawn)."""
    return min(max(page, 1), pages_of(rows, size))


def pager(table: str, page: int, rows: int, size: int, lang: Lang) -> html.Div | None:
    """上一页 · 第 2/9 页，共 165 条 · 下一页, under a table longer than one page; nothing otherwise.

    Whole pages instead of a box that scrolls inside the page: nothing is cut mid-row, on
    screen or in a full-page screenshot. Each button carries the page it goes to.
    """
    pages = pages_of(rows, size)
    if pages <= 1:
        return None

    def button(key: str, to: int, disabled: bool) -> html.Button:
        return html.Button(t(key, lang), id={"type": PAGER, "table": table, "to": to}, n_clicks=0,
                           disabled=disabled, className="btn btn-sm btn-secondary")

    return html.Div([button("pager.prev", page - 1, page <= 1),
                     html.Span(t("pager.label", lang, page=page, pages=pages, n=fmt_int(rows)), className="muted"),
                     button("pager.next", page + 1, page >= pages)], className="pager", id=f"{table}-pager")


def pager_input(table: str) -> Input:
    """The input of a callback that turns the pages of ``table`` (read the page with ``clicked("to")``)."""
    return Input({"type": PAGER, "table": table, "to": ALL}, "n_clicks")
