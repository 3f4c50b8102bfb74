"""Small shared widgets: level badges, status chips, messages, the denied notice."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dash import ClientsideFunction, Input, State, clientside_callback, html

from alerts.lifecycle import Role
from dashboard import auth
from dashboard.i18n import Lang, level_label, status_label, t

if TYPE_CHECKING:
    from dashboard.actions import Outcome


def level_badge(level: int, lang: Lang) -> html.Span:
    return html.Span(level_label(level, lang), className=f"badge level-{level}")


def status_chip(status: str, lang: Lang) -> html.Span:
    return html.Span(status_label(status, lang), className=f"chip status-{status}")


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


def session_user(lang: Lang, *roles: Role) -> auth.SessionUser | html.Div:
    """The session's user when its role is one of ``roles``; otherwise the denied notice to show instead."""
    try:
        return auth.require(*roles)
    except auth.Denied as exc:
        return denied(exc, lang)


def fmt_int(value: object) -> str:
    """12,345: digit groups as Chinese reports print them; None as a dash."""
    if value is None:
        return "—"
    return f"{int(value):,}"  # type: ignore[call-overload]


def fmt_pct(value: object) -> str:
    """85.3% (one decimal); None (nothing to divide) as a dash, never 0%."""
    if value is None:
        return "—"
    return f"{float(value):.1f}%"  # type: ignore[arg-type]


def scroll_into_view(panel_id: str) -> None:
    """Register the clientside callback that scrolls ``panel_id`` into view when it is shown (no round trip)."""
    clientside_callback(
        ClientsideFunction(namespace="cityops", function_name="scrollIntoView"),
        Input(panel_id, "hidden"),
        State(panel_id, "id"),
        prevent_initial_call=True,
    )
