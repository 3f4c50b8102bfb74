"""The 修改密码 page: one narrow card (a phone's width) with the current password, the new one twice and
the rules they must follow."""

from __future__ import annotations

from dash import dcc, html

from dashboard import auth
from dashboard.components import aria, message
from i18n.labels import Lang, role_label, t

from .ids import Ids


def _password(key: str, control_id: str, autocomplete: str, lang: Lang) -> list[html.Label | dcc.Input]:
    return [html.Label(t(key, lang), htmlFor=control_id),
            dcc.Input(id=control_id, type="password", maxLength=128, className="input", autoComplete=autocomplete)]


def changed(user: auth.SessionUser, lang: Lang) -> list[html.Div | html.A]:
    """Done: say so, and offer the way on to the user's own page."""
    return [message(t("account.changed", lang), "ok"),
            html.A(t("account.continue", lang), href=auth.home_for(user.role), className="btn btn-primary")]


def page(user: auth.SessionUser, must_change: bool, lang: Lang) -> html.Div:
    return html.Div([
        html.H1(t("account.title", lang)),
        html.Div([
            html.P(f"{user.username} · {role_label(user.role, lang)}", className="muted"),
            html.Div(message(t("account.must_change", lang), "info") if must_change else None, id=Ids.MSG,
                     **aria(live="polite")),
            *_password("account.current", Ids.CURRENT, "current-password", lang),
            *_password("account.new", Ids.NEW, "new-password", lang),
            *_password("account.new2", Ids.NEW2, "new-password", lang),
            html.P(t("account.rules", lang), className="muted small"),
            html.Button(t("account.submit", lang), id=Ids.SUBMIT, n_clicks=0, className="btn btn-primary"),
        ], className="card form", style={"maxWidth": "480px"}),  # a phone's width on any screen
    ], className="page page-light account")
