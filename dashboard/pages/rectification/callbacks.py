"""The 问题清单 page's callbacks: one problem's timeline, and the moves of its loop (整改报告 by the owner unit,
验收通过 / 验收退回 and 转预警预防 by a desk), each re-checked on the server: the session's role, what it may see,
and the loop's own rules (``alerts.rectification``), which say why in the user's language."""

from __future__ import annotations

from typing import Any

import psycopg
from dash import ALL, Input, Output, State, callback, ctx, no_update
from dash.exceptions import PreventUpdate

from alerts import problems
from alerts.lifecycle import DESK_ROLES, UNIT_ROLES, Role
from alerts.rectification import RAction, RectificationRefused
from alerts.rules import load_rules
from alerts.watch import WatchError
from dashboard import auth
from dashboard.actions import InvalidInput
from dashboard.components import bump, message, session_user
from dashboard.context import get_data
from i18n.labels import Lang, t
from i18n.timefmt import fmt_dt, utcnow

from . import load, views
from .ids import Ids

VIEW_ROLES = (Role.COMMAND, Role.DISTRICT, Role.LEADER, Role.ADMIN, Role.TOWNSHIP, Role.DEPARTMENT)
MOVE_ROLES = (*DESK_ROLES, *UNIT_ROLES)
MAX_NOTE = 2000


@callback(
    Output(Ids.DETAIL, "children"),
    Output(Ids.LIST, "children"),
    Output(Ids.CHOOSE, "options"),
    Input(Ids.CHOOSE, "value"),
    Input(Ids.VERSION, "data"),
    prevent_initial_call=True,
)
def show(pid: object, _version: int | None) -> tuple[Any, Any, Any]:
    """The chosen problem's timeline and forms (again after each move), and the list as it is now."""
    lang = auth.current_lang()
    user = session_user(lang, *VIEW_ROLES)
    if not isinstance(user, auth.SessionUser):
        return user, no_update, no_update
    data = get_data()
    listing = load.listing(data, user)
    now = (views.problem_table(listing, utcnow(), lang, Ids.LIST).children, views.choices(listing, lang))
    if not isinstance(pid, int) or isinstance(pid, bool):
        return None, *now
    found = load.detail(data, user, pid)
    if found is None:  # none, or not this user's: the same answer
        return message(t("rect.not_found", lang), "error"), *now
    return views.detail(found, listing.names, user.role, lang), *now


def _first(values: list[Any] | None) -> Any:
    return values[0] if values else None


def _refused(exc: RectificationRefused, user: auth.SessionUser, lang: Lang) -> str:
    if exc.refusal.value in ("wrong_role", "not_owner", "not_your_district"):
        auth.record_refusal(user)
    return t(f"rect.refusal.{exc.refusal.value}", lang)


def move(pid: object, action: object, note: object) -> tuple[bool, str]:
    """整改报告, 验收通过 or 验收退回 on problem ``pid`` by the session's user: (done, what to say)."""
    lang = auth.current_lang()
    try:
        user = auth.require(*MOVE_ROLES)
    except auth.Denied as exc:
        return False, t(exc.key, lang)
    if not isinstance(pid, int) or action not in (RAction.REPORT, RAction.ACCEPT, RAction.RETURN):
        return False, t("rect.not_found", lang)
    text = str(note or "").strip()
    if len(text) > MAX_NOTE:
        return False, t("err.note_long", lang)
    data = get_data()
    try:
        with data.pool.connection() as conn:
            row = problems.problem(conn, pid)
            if row is None or not load.may_see(user, row):
                auth.record_refusal(user)
                return False, t("rect.not_found", lang)
            problems.act(conn, pid, RAction(str(action)), user.actor(), utcnow(), note=text)
    except RectificationRefused as exc:
        return False, _refused(exc, user, lang)
    except psycopg.Error:
        return False, t("common.error", lang)
    return True, f"#{pid} {t(f'rect.action.{action}', lang)}：{t('common.done', lang)}" if lang == "zh" else \
        f"#{pid} {t(f'rect.action.{action}', lang)}: {t('common.done', lang)}"


def parse_factor(raw: object) -> float:
    try:
        return float(str(raw).strip())
    except ValueError:
        raise InvalidInput("watch.err.factor") from None


def parse_days(raw: object) -> int:
    text = str(raw if raw is not None else "").strip()
    if not text.isdecimal():
        raise InvalidInput("watch.err.days")
    return int(text)


def watch(pid: object, rule: object, factor: object, days: object, note: object) -> tuple[bool, str]:
    """转预警预防 from problem ``pid`` by a desk: the rule lowered by ``factor`` in its grid for ``days``."""
    lang = auth.current_lang()
    try:
        user = auth.require(*DESK_ROLES)
    except auth.Denied as exc:
        return False, t(exc.key, lang)
    if not isinstance(pid, int):
        return False, t("rect.not_found", lang)
    now, data = utcnow(), get_data()
    try:
        asked = problems.WatchAsked(str(rule or ""), parse_factor(factor), now, parse_days(days))
        with data.pool.connection() as conn:
            row = problems.problem(conn, pid)
            if row is None or not load.may_see(user, row):
                auth.record_refusal(user)
                return False, t("rect.not_found", lang)
            wid = problems.make_watch(conn, pid, asked, load_rules(), user.actor(), now, note=str(note or "").strip())
            made = problems.watches(conn, pid)[0]
    except (InvalidInput, WatchError) as exc:
        return False, t(exc.key, lang)
    except RectificationRefused as exc:
        return False, _refused(exc, user, lang)
    except psycopg.Error:
        return False, t("common.error", lang)
    return True, t("rect.watch_made", lang, id=wid, rule=made.rule_id, grid=made.grid_code, until=fmt_dt(made.ends_at))


@callback(
    Output(Ids.MSG, "children"),
    Output(Ids.VERSION, "data"),
    Input({"type": Ids.MOVE, "action": ALL, "pid": ALL}, "n_clicks"),
    State({"type": Ids.NOTE, "pid": ALL}, "value"),
    State(Ids.VERSION, "data"),
    prevent_initial_call=True,
)
def on_move(clicks: list[int | None], notes: list[str | None], version: int | None) -> tuple[Any, Any]:
    tid = ctx.triggered_id
    if not isinstance(tid, dict) or not any(clicks):
        raise PreventUpdate  # the form was drawn, not clicked
    ok, text = move(tid.get("pid"), tid.get("action"), _first(notes))
    return message(text, "ok" if ok else "error"), bump(version)


@callback(
    Output(Ids.MSG, "children", allow_duplicate=True),
    Output(Ids.VERSION, "data", allow_duplicate=True),
    Input({"type": Ids.WATCH, "pid": ALL}, "n_clicks"),
    State({"type": Ids.WATCH_RULE, "pid": ALL}, "value"),
    State({"type": Ids.WATCH_FACTOR, "pid": ALL}, "value"),
    State({"type": Ids.WATCH_DAYS, "pid": ALL}, "value"),
    State({"type": Ids.WATCH_NOTE, "pid": ALL}, "value"),
    State(Ids.VERSION, "data"),
    prevent_initial_call=True,
)
def on_watch(clicks: list[int | None], rules: list[Any], factors: list[Any], days: list[Any], notes: list[Any],
             version: int | None) -> tuple[Any, Any]:
    tid = ctx.triggered_id
    if not isinstance(tid, dict) or not any(clicks):
        raise PreventUpdate
    ok, text = watch(tid.get("pid"), _first(rules), _first(factors), _first(days), _first(notes))
    return message(text, "ok" if ok else "error"), bump(version)
