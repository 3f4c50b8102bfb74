"""应急响应 on the screens (issue 12): the response level in force, shown prominently on the big screen, the
township desk and the command desk, and its declaration from the command desk.

The command center declares, changes or lifts a level (Ⅳ级 → Ⅰ级) for the city or a district; each is a
directive to the townships it covers (``alerts.directives.declare_response``). A screen shows what is in force
where its user works: the city's screens the city's level and every district's own, a district's desk, a
township's or a grid member's page the higher of the city's and its district's. The banner is one element
with its own slow timer, so any page can carry it with one line (``element``); a phone page feeds it from its
own refresh instead, one request a tick.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from enum import StrEnum
from typing import Any

import psycopg
from dash import Input, Output, State, callback, dcc, html
from dash.exceptions import PreventUpdate

from alerts.directives import RESPONSE_LEVELS, DirectiveError, Response, effective
from alerts.lifecycle import Role, district_of_unit
from dashboard import auth
from dashboard.actions import InvalidInput, Outcome, directive_error
from dashboard.components import aria
from dashboard.context import get_data, get_read_data
from i18n.labels import Lang, t
from i18n.timefmt import utcnow

log = logging.getLogger("cityops.dashboard.response")

REFRESH_MS = 5000  # a level changes rarely; within seconds is soon enough, and the read is one small query
CITY = "city"  # the scope choice of the whole city (a district's is its code)
MAX_NOTE = 500
ACK_WITHIN = timedelta(minutes=15)  # a response level is news every township must have had within a quarter hour
VIEWERS = tuple(Role)  # everyone signed in sees what is in force where they work


class RIds(StrEnum):
    BANNER = "response-banner"
    TICK = "response-tick"
    SHOWN = "response-shown"  # what the banner shows, so an unchanged tick sends nothing
    # the command desk's form
    SCOPE = "response-scope"
    LEVEL = "response-level"
    NOTE = "response-note"
    DECLARE = "response-declare"
    LIFT = "response-lift"
    MSG = "response-msg"


def scope_of(role: Role, township_code: str | None, district_code: str | None,
             grid_codes: tuple[str, ...] = ()) -> str | None:
    """Where a user works, for the level it is shown: a district (its desk's, its township's, its grids'), or
    None for the city's roles (the command center, leaders, admins, departments)."""
    if role is Role.DISTRICT:
        return district_code
    if role is Role.TOWNSHIP:
        return district_of_unit(township_code)
    if role is Role.GRID and grid_codes:
        return district_of_unit(grid_codes[0][:9])
    return None


def in_force(responses: dict[str | None, Response], scope: str | None) -> list[Response]:
    """What a screen of ``scope`` shows: for a district the one in force there (the higher of the city's and its
    own); for the city the city's, then each district's own, by district."""
    if scope is not None:
        found = effective(responses, scope)
        return [found] if found else []
    return sorted(responses.values(), key=lambda r: (r.district_code is not None, r.district_code or ""))


def level_text(level: int, lang: Lang) -> str:
    return t(f"response.level_name.{level}", lang)


def banner(items: list[Response], names: dict[str, str], lang: Lang) -> list[html.Span]:
    """One badge per level in force, in its level's colour: 全市 Ⅳ级应急响应, 某区 Ⅲ级应急响应."""
    return [html.Span(t("response.in_force", lang, scope=names.get(r.district_code, r.district_code)
                        if r.district_code else t("response.city", lang), level=level_text(r.level, lang)),
                      className=f"badge level-{r.level} response-badge", **_data(r))
            for r in items]


def _data(r: Response) -> dict[str, Any]:
    """Its level and scope as the tests and the styles find them."""
    return {"data-level": str(r.level), "data-scope": r.district_code or CITY}


def element(*, own_timer: bool = True) -> html.Div:
    """The banner as a page carries it: empty and hidden until a tick finds a level in force. ``own_timer``
    False: the page's own refresh feeds it (``changed`` with ``OUTPUTS``/``STATE``), so a phone polling every
    3 s makes one request a tick, not one more for the banner."""
    timer = [dcc.Interval(id=RIds.TICK, interval=REFRESH_MS)] if own_timer else []
    return html.Div([html.Div(id=RIds.BANNER, className="response-banner", hidden=True, **aria(live="polite")),
                     *timer, dcc.Store(id=RIds.SHOWN)])


# What a page's own refresh adds to its outputs and states to feed the banner (``element(own_timer=False)``).
OUTPUTS = (Output(RIds.BANNER, "children", allow_duplicate=True), Output(RIds.BANNER, "hidden", allow_duplicate=True),
           Output(RIds.SHOWN, "data", allow_duplicate=True))
STATE = State(RIds.SHOWN, "data")


def changed(user: auth.SessionUser, lang: Lang, shown: Any) -> tuple[Any, bool, list[Any]] | None:
    """The banner (children, hidden, what it shows) for the levels in force where ``user`` works; None when
    that is what it shows already."""
    data = get_read_data()
    items = in_force(data.current_responses(), scope_of(user.role, user.township_code, user.district_code,
                                                         user.grid_codes))
    key = [lang, *([r.district_code, r.level] for r in items)]
    if key == shown:
        return None
    names = dict(data.districts()) if any(r.district_code for r in items) else {}
    return banner(items, names, lang), not items, key


@callback(Output(RIds.BANNER, "children"), Output(RIds.BANNER, "hidden"), Output(RIds.SHOWN, "data"),
          Input(RIds.TICK, "n_intervals"), State(RIds.SHOWN, "data"))
def refresh(_n: int | None, shown: Any) -> tuple[Any, bool, list[Any]]:
    """The levels in force where the session's user works; nothing sent when they did not change."""
    try:
        user = auth.require(*VIEWERS)
    except auth.Denied:
        raise PreventUpdate from None
    found = changed(user, auth.current_lang(), shown)
    if found is None:
        raise PreventUpdate
    return found


# -- declaring from the command desk --

def parse_level(raw: object) -> int:
    """A level as the form sends it (1 … 4, a number or its digits)."""
    text = str(raw).strip() if isinstance(raw, int | str) and not isinstance(raw, bool) else ""
    if not text.isdecimal() or int(text) not in RESPONSE_LEVELS:
        raise InvalidInput("directive.err.response_level")
    return int(text)


def declare(*, scope: object, level: object, note: object, lift: bool) -> Outcome:
    """启动 / 调整 / 解除应急响应 from the command desk: session, scope, level and note checked here, then one
    transaction that writes the level and its directive to every township of the scope."""
    lang: Lang = auth.current_lang()
    try:
        user = auth.require(Role.COMMAND)
    except auth.Denied as exc:
        return Outcome(False, t(exc.key, lang))
    data = get_data()
    choices = data.township_choices()
    districts = {c["district_code"]: c["district_name"] or c["district_code"] for c in choices}
    district = None if scope == CITY else scope
    note_text = note.strip() if isinstance(note, str) else ""
    try:
        if district is not None and (not isinstance(district, str) or district not in districts):
            raise InvalidInput("err.district_unknown")
        wanted = None if lift else parse_level(level)
        if len(note_text) > MAX_NOTE:
            raise InvalidInput("response.err.note_long")
    except InvalidInput as exc:
        return Outcome(False, t(exc.key, lang))
    assert district is None or isinstance(district, str)  # checked above; for the type checker
    townships = [c["code"] for c in choices if district is None or c["district_code"] == district]
    try:
        # the directive's title is stored text the townships receive, in the city's language
        directive_id = data.declare_response(level=wanted, district=district, townships=townships, note=note_text,
                                             scope_name="全市" if district is None else districts[district],
                                             actor=user.actor(), now=utcnow(), ack_within=ACK_WITHIN)
    except DirectiveError as exc:
        return Outcome(False, directive_error(exc.code, lang))
    except psycopg.Error:
        log.exception("dashboard: a response level by %s failed", user.username)
        return Outcome(False, t("common.error", lang))
    log.info("dashboard: response level %s in %s by %s (directive %s)", wanted, district or CITY, user.username,
             directive_id)
    scope_name = t("response.city", lang) if district is None else districts[district]
    what = t("response.lifted", lang) if wanted is None else level_text(wanted, lang)
    return Outcome(True, t("response.declared", lang, scope=scope_name, what=what, id=directive_id, n=len(townships)))
