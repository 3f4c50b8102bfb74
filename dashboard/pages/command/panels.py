"""The 值班指挥 page's forms: 返工 (rework) with its reason, and one panel for the actions that need a note
(转派 / 协办 / 缓办 / 合并 / 确认属地, and 强制结案 after a refused closure), with what it shows per action."""

from __future__ import annotations

from typing import Any

from dash import dcc, html

from alerts.lifecycle import Action
from dashboard.components import aria
from dashboard.widgets import township_options
from i18n.labels import Lang, action_label, t

from .ids import Ids

OVERRIDE = "override"  # the panel's mode after 核查结案 was refused because the sensor still breaches
PANEL_ACTIONS: dict[str, Action] = {"transfer": Action.TRANSFER, "assist": Action.ASSIST,
                                    "postpone": Action.POSTPONE, "merge": Action.MERGE,
                                    "confirm": Action.CONFIRM_AREA, "decline": Action.DECLINE,
                                    OVERRIDE: Action.VERIFY}
NOTE_LABEL = {"transfer": "command.transfer_reason", "assist": "command.assist_note",
              "postpone": "command.postpone_note", "merge": "command.merge_note",
              "confirm": "command.confirm_note", "decline": "command.decline_reason",
              OVERRIDE: "command.override_reason"}
TO_TOWNSHIP = ("transfer", "assist")  # the modes that name a township
# The panel closed: every field hidden and empty (the outputs of ``callbacks.show_act_panel``).
CLOSED: dict[str, Any] = {"hidden": True, "title": "", "township_hidden": True, "township_label": "",
                          "township_options": [], "township": None, "into_hidden": True, "into": "",
                          "override_hidden": True, "override": [], "note_label": "", "note": "", "msg": None}


def rework_panel(lang: Lang) -> html.Div:
    """返工 with its reason, opened from a card of the verify queue."""
    return html.Div([
        html.H2(id=Ids.REWORK_TITLE),
        html.Label(t("command.rework_reason", lang), htmlFor=Ids.REWORK_REASON),
        dcc.Textarea(id=Ids.REWORK_REASON, className="input textarea", maxLength=2000),
        html.Div([
            html.Button(action_label(Action.REWORK, lang), id=Ids.REWORK_SUBMIT, className="btn btn-danger",
                        n_clicks=0),
            html.Button(t("township.cancel", lang), id=Ids.REWORK_CANCEL, className="btn btn-secondary",
                        n_clicks=0),
        ], className="card-actions"),
    ], id=Ids.REWORK_PANEL, className="card action-panel", hidden=True)


def action_panel(lang: Lang) -> html.Div:
    """The one panel of the actions with a note, hidden; ``shown`` says what it shows for the action chosen."""
    return html.Div([
        html.H2(id=Ids.ACT_TITLE),
        html.Div(id=Ids.ACT_MSG, **aria(live="assertive")),
        html.Div([
            html.Label(id=Ids.ACT_TOWNSHIP_LABEL, htmlFor=Ids.ACT_TOWNSHIP),
            dcc.Dropdown(id=Ids.ACT_TOWNSHIP, options=[], clearable=True, className="dropdown",
                         placeholder=t("command.choose_township", lang)),
        ], id=Ids.ACT_TOWNSHIP_ROW, className="form", hidden=True),
        html.Div([
            html.Label(t("command.merge_into", lang), htmlFor=Ids.ACT_INTO),
            dcc.Input(id=Ids.ACT_INTO, type="text", inputMode="numeric", className="input input-short",
                      maxLength=20),
        ], id=Ids.ACT_INTO_ROW, className="form", hidden=True),
        html.Div(dcc.Checklist(id=Ids.ACT_OVERRIDE, value=[], className="check-row",
                               options=[{"label": t("command.override", lang), "value": OVERRIDE}]),
                 id=Ids.ACT_OVERRIDE_ROW, className="form override-row", hidden=True),
        html.Label(id=Ids.ACT_NOTE_LABEL, htmlFor=Ids.ACT_NOTE),
        dcc.Textarea(id=Ids.ACT_NOTE, className="input textarea", maxLength=2000),
        html.Div([
            html.Button(t("command.submit", lang), id=Ids.ACT_SUBMIT, className="btn btn-primary", n_clicks=0),
            html.Button(t("township.cancel", lang), id=Ids.ACT_CANCEL, className="btn btn-secondary", n_clicks=0),
        ], className="card-actions"),
    ], id=Ids.ACT_PANEL, className="card action-panel", hidden=True)


def shown(mode: str, incident_id: object, targets: list[tuple[str, str]], lang: Lang, into: str = "") -> dict[str, Any]:
    """The panel open for ``mode`` (a key of ``PANEL_ACTIONS``) on the incident: its fields, empty (a merge's
    target: ``into``, the likely duplicate of a grid report), and ``targets`` (code, name) to choose from when
    the action names a township. Keys as in ``CLOSED``."""
    title = t("command.override_title", lang) if mode == OVERRIDE else action_label(PANEL_ACTIONS[mode], lang)
    return {"hidden": False, "title": f"{title} · #{incident_id}", "township_hidden": mode not in TO_TOWNSHIP,
            "township_label": t("command.transfer_to" if mode == "transfer" else "command.assist_with", lang),
            "township_options": township_options(targets), "township": None, "into_hidden": mode != "merge",
            "into": into, "override_hidden": mode != OVERRIDE, "override": [], "note_label": t(NOTE_LABEL[mode], lang),
            "note": "", "msg": None}
