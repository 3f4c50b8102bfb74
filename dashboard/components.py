"""Small shared widgets: level badges, status chips, messages, the denied notice."""

from __future__ import annotations

from dash import html

from dashboard import auth
from dashboard.i18n import Lang, level_label, status_label, t


def level_badge(level: int, lang: Lang) -> html.Span:
    return html.Span(level_label(level, lang), className=f"badge level-{level}")


def status_chip(status: str, lang: Lang) -> html.Span:
    return html.Span(status_label(status, lang), className=f"chip status-{status}")


def message(text: str, kind: str = "info") -> html.Div:
    """A feedback line under a form; ``kind`` is info, ok or error (CSS classes of the same name)."""
    return html.Div(text, className=f"msg msg-{kind}", role="alert" if kind == "error" else "status")


def denied(exc: auth.Denied, lang: Lang) -> html.Div:
    """What a page shows instead of its content when the session may not see it."""
    children: list[html.Div | html.A] = [message(t(exc.key, lang), "error")]
    if exc.key == "auth.required":
        children.append(html.A(t("login.title", lang), href="/login", className="btn btn-primary"))
    return html.Div(children, className="page page-light denied")


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
