"""The 考核 page's callbacks: the ranking again when a filter changes, the incidents behind a clicked figure,
and both Excel exports. Every one checks the session's role and the filters on the server."""

from __future__ import annotations

from typing import Any

from dash import ALL, Input, Output, State, callback, ctx, dcc, no_update
from dash.exceptions import PreventUpdate

from alerts.lifecycle import Role
from dashboard import auth
from dashboard.components import message, scroll_into_view
from dashboard.context import get_read_data
from i18n.labels import t
from i18n.timefmt import local, utcnow

from . import load, views
from .ids import Ids

ROLES = (Role.LEADER, Role.COMMAND, Role.DISTRICT, Role.ADMIN)  # a district desk: its own district's
FILTERS = (State(Ids.PERIOD, "value"), State(Ids.KIND, "value"), State(Ids.CATEGORY, "value"),
           State(Ids.LEVEL, "value"))


def _assessed(period: Any, kind: Any, category: Any, level: Any) -> load.Assessment:
    """Raises ``auth.Denied`` or ``load.BadQuery`` (each with its message key). A district desk's ranking is of
    its district whatever the browser sends (the departments' refused as a kind it is not offered)."""
    district = load.district_of(auth.require(*ROLES))
    data, now = get_read_data(), utcnow()
    q = load.parse(now, period=period, kind=kind, category=category, level=level, categories=data.categories(),
                   district=district)
    return load.assess(data, q, now, district)


@callback(
    output={"table": Output(Ids.TABLE, "children"), "msg": Output(Ids.MSG, "children"),
            "drill_hidden": Output(Ids.DRILL, "hidden")},
    inputs=[Input(Ids.PERIOD, "value"), Input(Ids.KIND, "value"), Input(Ids.CATEGORY, "value"),
            Input(Ids.LEVEL, "value")],
    prevent_initial_call=True,
)
def update(period: Any, kind: Any, category: Any, level: Any) -> dict[str, Any]:
    lang = auth.current_lang()
    try:
        a = _assessed(period, kind, category, level)
    except (auth.Denied, load.BadQuery) as exc:
        return {"table": no_update, "msg": message(t(exc.key, lang), "error"), "drill_hidden": no_update}
    return {"table": views.body(a, lang), "msg": None, "drill_hidden": True}


@callback(
    output={"body": Output(Ids.DRILL_BODY, "children"), "hidden": Output(Ids.DRILL, "hidden", allow_duplicate=True),
            "chosen": Output(Ids.DRILL_CHOSEN, "data"), "msg": Output(Ids.MSG, "children", allow_duplicate=True)},
    inputs=[Input({"type": Ids.CELL, "unit": ALL, "figure": ALL, "column": ALL}, "n_clicks")],
    state=list(FILTERS),
    prevent_initial_call=True,
)
def open_drill(_clicks: list[int | None], period: Any, kind: Any, category: Any, level: Any) -> dict[str, Any]:
    """The incidents behind the figure clicked (a unit of the ranking shown, checked again here)."""
    hit = ctx.triggered_id
    if not isinstance(hit, dict) or not ctx.triggered[0].get("value"):
        raise PreventUpdate  # the table was redrawn (its buttons at 0 clicks): no click
    lang = auth.current_lang()
    try:
        a = _assessed(period, kind, category, level)
        rows = load.drill(get_read_data(), a, str(hit.get("unit")), str(hit.get("figure")))
    except (auth.Denied, load.BadQuery) as exc:
        return {"body": no_update, "hidden": no_update, "chosen": no_update,
                "msg": message(t(exc.key, lang), "error")}
    unit = str(hit["unit"])
    return {"body": views.drill(rows, a.names.get(unit, unit), str(hit["figure"]), lang), "hidden": False,
            "chosen": {"unit": unit, "figure": hit["figure"]}, "msg": None}


scroll_into_view(Ids.DRILL)


@callback(Output(Ids.DOWNLOAD, "data"), Output(Ids.MSG, "children", allow_duplicate=True),
          Input(Ids.EXPORT, "n_clicks"), Input(Ids.EXPORT_DRILL, "n_clicks"), State(Ids.DRILL_CHOSEN, "data"),
          *FILTERS, prevent_initial_call=True)
def export(n_all: int | None, n_drill: int | None, chosen: Any, period: Any, kind: Any, category: Any,
           level: Any) -> tuple[Any, Any]:
    """The ranking with every incident it counts, or the list of the figure opened, as an Excel file."""
    from dashboard.excel import workbook  # openpyxl is loaded only by whoever exports

    if not (n_all or n_drill):
        raise PreventUpdate
    lang, now = auth.current_lang(), utcnow()
    data = get_read_data()
    try:
        a = _assessed(period, kind, category, level)
        if ctx.triggered_id == Ids.EXPORT_DRILL:
            if not isinstance(chosen, dict):
                raise load.BadQuery("assess.err.figure")
            rows = load.drill(data, a, str(chosen.get("unit")), str(chosen.get("figure")))
            sheets = views.sheets(a, rows, lang, now)[1:]
        else:
            sheets = views.sheets(a, load.rows_of(data, a.stretches), lang, now)
    except (auth.Denied, load.BadQuery) as exc:
        return no_update, message(t(exc.key, lang), "error")
    stamp = local(now).strftime("%Y%m%d-%H%M")
    return dcc.send_bytes(workbook(sheets), f"{t('assess.title', lang)}-{stamp}.xlsx"), None
