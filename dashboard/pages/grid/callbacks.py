"""The 网格巡查 page's callbacks: re-read the lists when they changed, 巡查上报 (checked on the server by
``actions.submit_patrol``: the session, the form, the point's grid), the phone's position (in the browser), and
现场核查 (pass or fail, with a note and photos) of an incident of the member's grids (``actions.perform``)."""

from __future__ import annotations

from typing import Any

from dash import ALL, Input, Output, State, callback, clientside_callback, ctx, no_update
from dash.exceptions import PreventUpdate

from alerts.lifecycle import Action, Role
from dashboard import auth, response_level
from dashboard.actions import InvalidInput, Outcome, may_act, parse_photos, perform, submit_patrol
from dashboard.components import bump, clicked, message, outcome_message, scroll_into_view, session_user
from dashboard.context import get_data
from i18n.labels import t
from i18n.timefmt import utcnow

from . import load, views
from .ids import Ids

ROLES = (Role.GRID,)


@callback(Output(Ids.LISTS, "children"), Output(Ids.MARKER, "data"), *response_level.OUTPUTS,
          Input(Ids.TICK, "n_intervals"), Input(Ids.VERSION, "data"), State(Ids.MARKER, "data"), response_level.STATE,
          prevent_initial_call=True)
def refresh(_n: int | None, _version: int | None, marker: Any = None, banner_shown: Any = None) -> tuple[Any, ...]:
    """Re-read the lists after a report or a check, or on the timer when something changed; the 应急响应 banner in
    the same request when its level changed."""
    lang = auth.current_lang()
    user = session_user(lang, *ROLES)
    if not isinstance(user, auth.SessionUser):
        return user, *[no_update] * 4
    data, now = get_data(), utcnow()
    current = load.marker(data, user.grid_codes, user.username, now)
    lists_due = current != marker or ctx.triggered_id != Ids.TICK
    banner = response_level.changed(user, lang, banner_shown)
    if not (lists_due or banner):
        raise PreventUpdate
    lists = (views.lists(load.lists(data, user.grid_codes, user.username), lang), current) if lists_due \
        else (no_update, no_update)
    return *lists, *(banner or (no_update,) * 3)


# The phone's position into the form, in the browser (nothing is sent until the report is).
clientside_callback(
    """function (n) {
        if (!n || !navigator.geolocation) { return [window.dash_clientside.no_update,
            window.dash_clientside.no_update, navigator.geolocation ? "" : "-"]; }
        return new Promise(function (resolve) {
            navigator.geolocation.getCurrentPosition(function (p) {
                resolve([p.coords.longitude.toFixed(6), p.coords.latitude.toFixed(6),
                         "±" + Math.round(p.coords.accuracy) + " m"]);
            }, function (e) {
                resolve([window.dash_clientside.no_update, window.dash_clientside.no_update, e.message]);
            }, {enableHighAccuracy: true, timeout: 15000});
        });
    }""",
    Output(Ids.LON, "value"), Output(Ids.LAT, "value"), Output(Ids.LOCATE_MSG, "children"),
    Input(Ids.LOCATE, "n_clicks"), prevent_initial_call=True,
)


# The map's centre (moved under the cross by panning the map) into the form, in the browser: the view the map
# reported last (relayoutData), else the one it was drawn with.
clientside_callback(
    """function (n, moved, figure) {
        var c = (moved && moved["map.center"]) || (figure && figure.layout && figure.layout.map
                                                   && figure.layout.map.center);
        if (!n || !c) { return [window.dash_clientside.no_update, window.dash_clientside.no_update]; }
        return [Number(c.lon).toFixed(6), Number(c.lat).toFixed(6)];
    }""",
    Output(Ids.LON, "value", allow_duplicate=True), Output(Ids.LAT, "value", allow_duplicate=True),
    Input(Ids.FROM_MAP, "n_clicks"), State(Ids.MAP, "relayoutData"), State(Ids.MAP, "figure"),
    prevent_initial_call=True,
)


def _names(filenames: list[str] | str | None) -> str:
    names = filenames if isinstance(filenames, list) else [filenames] if filenames else []
    return "、".join(str(n) for n in names)


@callback(Output(Ids.PHOTO_NAME, "children"), Input(Ids.PHOTO, "filename"), prevent_initial_call=True)
def photo_name(filenames: list[str] | str | None) -> str:
    return _names(filenames)


@callback(Output(Ids.CHECK_PHOTO_NAME, "children"), Input(Ids.CHECK_PHOTO, "filename"), prevent_initial_call=True)
def check_photo_name(filenames: list[str] | str | None) -> str:
    return _names(filenames)


@callback(
    output={"msg": Output(Ids.MSG, "children"), "form_msg": Output(Ids.FORM_MSG, "children"),
            "version": Output(Ids.VERSION, "data"), "note": Output(Ids.NOTE, "value"),
            "photo": Output(Ids.PHOTO, "contents"), "filename": Output(Ids.PHOTO, "filename")},
    inputs=[Input(Ids.SUBMIT, "n_clicks")],
    state=[State(Ids.CATEGORY, "value"), State(Ids.LON, "value"), State(Ids.LAT, "value"), State(Ids.NOTE, "value"),
           State(Ids.PHOTO, "contents"), State(Ids.PHOTO, "filename"), State(Ids.VERSION, "data")],
    running=[(Output(Ids.SUBMIT, "disabled"), True, False)],  # no second report while the first is sent
    prevent_initial_call=True,
)
def submit(n: int | None, category: object, lon: object, lat: object, note: object, contents: object,
           filenames: object, version: int | None) -> dict[str, Any]:
    """巡查上报: errors stay in the form, which keeps what was typed; success clears the note and photos."""
    if not n:
        raise PreventUpdate
    outcome = submit_patrol(category=category, lon=lon, lat=lat, note=note, contents=contents, filenames=filenames)
    if not outcome.ok:
        return {"msg": no_update, "form_msg": outcome_message(outcome), "version": no_update, "note": no_update,
                "photo": no_update, "filename": no_update}
    return {"msg": outcome_message(outcome), "form_msg": None, "version": bump(version), "note": "", "photo": None,
            "filename": None}


@callback(Output(Ids.SELECTED, "data"), Input({"type": Ids.OPEN_CHECK, "index": ALL}, "n_clicks"),
          Input(Ids.CHECK_CANCEL, "n_clicks"), prevent_initial_call=True)
def select(_clicks: list[int | None], _cancel: int | None) -> int | None:
    if ctx.triggered_id == Ids.CHECK_CANCEL:
        return None
    incident_id = clicked()
    if incident_id is None:
        raise PreventUpdate
    return incident_id


@callback(Output(Ids.CHECK_PANEL, "hidden"), Output(Ids.CHECK_TITLE, "children"),
          Output(Ids.CHECK_MSG, "children", allow_duplicate=True), Input(Ids.SELECTED, "data"),
          prevent_initial_call=True)
def show_check(selected: object) -> tuple[bool, str, Any]:
    """The check form of the incident chosen; nothing for one outside the member's grids (trust no store)."""
    if selected is None or isinstance(may_act(selected, Action.SITE_PASS, ROLES), Outcome):
        return True, "", None
    return False, f"{t('grid.check', auth.current_lang())} · #{selected}", None


scroll_into_view(Ids.CHECK_PANEL)


@callback(
    output={"msg": Output(Ids.MSG, "children", allow_duplicate=True), "form_msg": Output(Ids.CHECK_MSG, "children"),
            "version": Output(Ids.VERSION, "data", allow_duplicate=True),
            "selected": Output(Ids.SELECTED, "data", allow_duplicate=True), "note": Output(Ids.CHECK_NOTE, "value"),
            "photo": Output(Ids.CHECK_PHOTO, "contents"), "filename": Output(Ids.CHECK_PHOTO, "filename")},
    inputs=[Input(Ids.CHECK_PASS, "n_clicks"), Input(Ids.CHECK_FAIL, "n_clicks")],
    state=[State(Ids.SELECTED, "data"), State(Ids.CHECK_NOTE, "value"), State(Ids.CHECK_PHOTO, "contents"),
           State(Ids.CHECK_PHOTO, "filename"), State(Ids.VERSION, "data")],
    prevent_initial_call=True,
)
def submit_check(passed: int | None, failed: int | None, selected: object, note: str | None, contents: object,
                 filenames: object, version: int | None) -> dict[str, Any]:
    """核查通过 or 核查不通过 (返工: the note says why), with its photos, on an incident of the member's grids."""
    action = {Ids.CHECK_PASS: Action.SITE_PASS, Ids.CHECK_FAIL: Action.SITE_FAIL}.get(ctx.triggered_id)
    if action is None or not (passed or failed):
        raise PreventUpdate
    keep = dict.fromkeys(("msg", "version", "selected", "note", "photo", "filename"), no_update)
    try:
        photos = parse_photos(contents, filenames)
    except InvalidInput as exc:
        return {**keep, "form_msg": message(t(exc.key, auth.current_lang()), "error")}
    details: dict[str, object] = {"photos": [p.filename for p in photos]} if photos else {}
    outcome = perform(selected, action, ROLES, note=note or "", details=details, photos=photos)
    if not outcome.ok:
        return {**keep, "form_msg": outcome_message(outcome), "version": bump(version)}
    return {"msg": outcome_message(outcome), "form_msg": None, "version": bump(version), "selected": None,
            "note": "", "photo": None, "filename": None}
