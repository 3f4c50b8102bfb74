"""Server-side handling of every button that changes an incident, shared by the pages.

``perform`` re-checks the session's role and township before touching anything,
then goes through ``Data.act`` (the lifecycle's rules, one transaction), and turns
every refusal into a sentence in the user's language. Callbacks stay thin and
tests call these functions directly.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import psycopg
from dash import html
from dash.exceptions import PreventUpdate

from alerts.directives import DirectiveError
from alerts.feedback import PATROL_CATEGORIES, REPORTS, RESULTS, Kind, fields_for
from alerts.incidents import IncidentNotFound
from alerts.lifecycle import MOVES, UNIT_ROLES, Action, IllegalMove, Refusal, Role, desk_district
from alerts.problems import RootCauseError
from dashboard import auth
from dashboard.components import bump, clicked, outcome_message
from dashboard.context import get_data
from dashboard.data import Photo
from i18n.labels import MESSAGES, Lang, action_label, refusal_message, t
from i18n.refusal import Refused
from i18n.timefmt import utcnow

log = logging.getLogger("cityops.dashboard.actions")

MAX_PHOTO_BYTES = 5 * 1024 * 1024
MAX_EVACUATED = 10_000_000  # more than a city's population is a typo, not a report
# The photo's kind is read from its first bytes, never from the name or the browser's claim.
_MAGIC: tuple[tuple[bytes, int, str], ...] = (
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"WEBP", 8, "image/webp"),
)
_DATA_URL = re.compile(r"data:[^;,]*;base64,(?P<b64>.*)", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    text: str
    refusal: Refusal | None = None  # why the lifecycle said no, when it did (the page may offer a way out)


class InvalidInput(Refused):
    """A form value the server will not accept; ``key`` names the i18n message."""


def parse_evacuated(raw: object) -> int:
    """People evacuated as typed: a whole number ≥ 0 (full-width digits from a Chinese IME are fine)."""
    if isinstance(raw, bool):
        raise InvalidInput("err.evacuated_int")
    if isinstance(raw, int):
        value = raw
    else:
        text = str(raw if raw is not None else "").strip()
        if not text.isdecimal():
            raise InvalidInput("err.evacuated_int")
        value = int(text)
    if value < 0:
        raise InvalidInput("err.evacuated_int")
    if value > MAX_EVACUATED:
        raise InvalidInput("err.evacuated_big")
    return value


MAX_ACK_MINUTES = 7 * 24 * 60  # a week: longer is not an acknowledgement window


def parse_minutes(raw: object) -> int:
    """A directive's acknowledgement window in whole minutes, 1 … one week (full-width digits fine)."""
    text = str(raw if raw is not None else "").strip()
    if isinstance(raw, bool) or not text.isdecimal():
        raise InvalidInput("err.ack_minutes")
    value = int(text)
    if not 1 <= value <= MAX_ACK_MINUTES:
        raise InvalidInput("err.ack_minutes")
    return value


def parse_incident_ref(raw: object) -> int:
    """An incident number as typed: ``123``, ``#123`` or ``＃１２３``."""
    text = str(raw if raw is not None else "").strip().lstrip("#＃").strip()
    if isinstance(raw, bool) or not text.isdecimal() or len(text) > 18:
        raise InvalidInput("err.merge_into")
    return int(text)


MAX_PHOTOS = 3
MAX_PLACES, MAX_PLACE_CHARS = 10, 50
_PLACE_SEP = re.compile(r"[、,，;；\n]+")


def parse_places(raw: object) -> list[str]:
    """安置点 as typed: names separated by 、 , ， ; ； or new lines, at most 10 of at most 50 characters."""
    places = [p.strip() for p in _PLACE_SEP.split(raw if isinstance(raw, str) else "") if p.strip()]
    if len(places) > MAX_PLACES or any(len(p) > MAX_PLACE_CHARS for p in places):
        raise InvalidInput("err.shelters_long")
    return places


def parse_report(category: str, action: Action, raw: dict[str, object]) -> dict[str, object]:
    """The fields of a unit's report (``alerts.feedback``'s catalogue for the incident's category) as the log
    row stores them, from what the form sent: 处置结果 one of the choices, people moved a whole number ≥ 0,
    and when people were moved, the places they went to (none given: none stored). A field the report does not
    ask for is dropped."""
    details: dict[str, object] = {}
    for field in fields_for(category, action):
        value = raw.get(field.key)
        if field.kind is Kind.CHOICE:
            if value not in RESULTS:
                raise InvalidInput("err.result_required")
            details[field.key] = value
        elif field.kind is Kind.COUNT:
            details[field.key] = parse_evacuated("0" if value is None or value == "" else value)
        elif places := parse_places(value):
            details[field.key] = places
    if details.get("people_evacuated") and not details.get("shelters"):
        raise InvalidInput("err.shelters_required")
    return details


def parse_photos(contents: object, filenames: object) -> list[Photo]:
    """A multiple ``dcc.Upload``'s data URLs and names (lists, or one of each), each checked as ``parse_photo``;
    at most 3."""
    files = contents if isinstance(contents, list) else [contents] if contents else []
    names = filenames if isinstance(filenames, list) else [filenames]
    if len(files) > MAX_PHOTOS:
        raise InvalidInput("err.photo_count")
    photos = []
    for n, data_url in enumerate(files):
        name = names[n] if n < len(names) else None
        photo = parse_photo(data_url if isinstance(data_url, str) else "-", name if isinstance(name, str) else None)
        if photo is not None:
            photos.append(photo)
    return photos


def parse_photo(contents: str | None, filename: str | None) -> Photo | None:
    """A ``dcc.Upload`` data URL checked to be a JPEG, PNG or WebP of at most 5 MB; None if no photo."""
    if not contents:
        return None
    m = _DATA_URL.fullmatch(contents)
    if m is None:
        raise InvalidInput("err.photo_type")
    if len(m["b64"]) > MAX_PHOTO_BYTES * 4 // 3 + 4:
        raise InvalidInput("err.photo_size")  # refuse before decoding megabytes for nothing
    try:
        raw = base64.b64decode(m["b64"], validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("err.photo_type") from None
    if len(raw) > MAX_PHOTO_BYTES:
        raise InvalidInput("err.photo_size")
    kind = next((ct for magic, offset, ct in _MAGIC if raw[offset:offset + len(magic)] == magic), None)
    if kind is None:
        raise InvalidInput("err.photo_type")
    name = os.path.basename((filename or "photo").replace("\\", "/"))[:200] or "photo"
    return Photo(name, kind, raw)


def may_act(incident_id: object, action: Action, roles: tuple[Role, ...]) -> auth.SessionUser | Outcome:
    """The session's user when its role is one of ``roles`` and, for township and department staff, the
    incident is their unit's (or, for a 协办 move, one it assists); otherwise what to say instead (a refusal
    of the role or the township is recorded)."""
    lang: Lang = auth.current_lang()
    try:
        user = auth.require(*roles)
    except auth.Denied as exc:
        return Outcome(False, t(exc.key, lang))
    if not isinstance(incident_id, int) or isinstance(incident_id, bool):
        return Outcome(False, t("common.not_found", lang))  # ids come from the browser: trust nothing
    if user.role in UNIT_ROLES:
        incident = get_data().incident(incident_id)
        if incident is None or not _units_incident(incident, user.township_code, action):
            # Same answer whether the incident exists or not: no probing other townships' ids.
            auth.record_refusal(user)
            return Outcome(False, refusal_message(Refusal.NOT_YOUR_TOWNSHIP, action, lang))
    if user.role is Role.DISTRICT and not on_desk_of(get_data().incident(incident_id), user.district_code):
        auth.record_refusal(user)  # another district's (or none): the same answer, no probing of ids
        return Outcome(False, refusal_message(Refusal.NOT_YOUR_DISTRICT, action, lang))
    if user.role is Role.GRID and (get_data().incident(incident_id) or {}).get("grid_code") not in user.grid_codes:
        auth.record_refusal(user)  # another grid's (or none): the same answer, no probing of ids
        return Outcome(False, refusal_message(Refusal.NOT_YOUR_GRID, action, lang))
    return user


def on_desk_of(incident: dict[str, object] | None, district: str | None) -> bool:
    """Whether the incident (``Data.incident``'s row) is on the desk of ``district`` (``desk_district``)."""
    if incident is None or district is None:
        return False
    unit, point = incident.get("township_code"), incident.get("district_code")
    return desk_district(unit if isinstance(unit, str) else None, point if isinstance(point, str) else None) == district


def _units_incident(incident: dict[str, object], unit: str | None, action: Action) -> bool:
    """Whether a unit's staff may ask for ``action`` on it: the primary unit's moves on their own incident,
    the 协办 moves on one their unit assists; the lifecycle then decides whether the move fits the status
    and the part."""
    if MOVES[action].part is None:
        return incident["township_code"] == unit
    assists = incident.get("assist_units") or []
    return isinstance(assists, list) and unit in assists


# The lifecycle's refusals that are about who asks, not about the incident's state: recorded as refusals.
_NOT_YOURS = frozenset({Refusal.WRONG_ROLE, Refusal.NOT_YOUR_TOWNSHIP, Refusal.NOT_YOUR_GRID})


def perform(incident_id: object, action: Action, roles: tuple[Role, ...], *, note: str = "",
            township_code: str | None = None, details: dict[str, object] | None = None,
            photos: Sequence[Photo] = ()) -> Outcome:
    """Check the session, apply ``action`` to the incident, and say what happened. A unit's report
    (``alerts.feedback.REPORTS``) and a grid member's 核查 go in with their photos; 受理立案 routes the accepted
    report as any incident."""
    lang: Lang = auth.current_lang()
    user = may_act(incident_id, action, roles)
    if isinstance(user, Outcome):
        return user
    assert isinstance(incident_id, int)  # may_act refuses anything else
    try:
        if action is Action.ACCEPT:
            get_data().accept_report(incident_id, user.actor(), utcnow(), note=note)
        elif action in REPORTS or photos:
            get_data().report(incident_id, action, user.actor(), utcnow(), note=note, details=details or {},
                              photos=photos)
        else:
            get_data().act(incident_id, action, user.actor(), utcnow(), note=note, township_code=township_code,
                           details=details)
    except IllegalMove as exc:
        if exc.refusal in _NOT_YOURS:
            auth.record_refusal(user)
        return Outcome(False, refusal_message(exc.refusal, exc.action, lang), exc.refusal)
    except IncidentNotFound:
        return Outcome(False, t("common.not_found", lang))
    except RootCauseError as exc:  # 核查结案 without a root cause, or with one no longer offered
        return Outcome(False, t(exc.key, lang))
    except psycopg.Error:
        log.exception("dashboard: %s on incident %s by %s failed", action, incident_id, user.username)
        return Outcome(False, t("common.error", lang))
    log.info("dashboard: %s on incident %s by %s (%s)", action, incident_id, user.username, user.role)
    return _done(incident_id, action, lang)


def _done(incident_id: int, action: Action, lang: Lang) -> Outcome:
    sep = "：" if lang == "zh" else ": "
    return Outcome(True, f"#{incident_id} {action_label(action, lang)}{sep}{t('common.done', lang)}")


MAX_NOTE = 2000


def parse_point(lon: object, lat: object) -> tuple[float, float]:
    """A position as typed or as the phone gave it: decimal degrees, longitude −180…180, latitude −90…90."""
    try:
        x, y = float(str(lon).strip()), float(str(lat).strip())
    except ValueError:
        raise InvalidInput("err.point") from None
    if isinstance(lon, bool) or isinstance(lat, bool) or not (-180 <= x <= 180 and -90 <= y <= 90):
        raise InvalidInput("err.point")
    return x, y


def submit_patrol(*, category: object, lon: object, lat: object, note: object, contents: object,
                  filenames: object) -> Outcome:
    """巡查上报 from a grid member's phone: the session, then the form (a category of the catalogue, a position,
    a note, up to 3 photos checked by content), then the point's grid (one of the member's, by the layers ingest
    tags with), in one transaction. It waits as 待受理 for the desk."""
    lang: Lang = auth.current_lang()
    try:
        user = auth.require(Role.GRID)
    except auth.Denied as exc:
        return Outcome(False, t(exc.key, lang))
    text = str(note or "").strip()
    try:
        if category not in PATROL_CATEGORIES:
            raise InvalidInput("err.category_required")
        x, y = parse_point(lon, lat)
        if not text:
            raise InvalidInput("err.patrol_note")
        if len(text) > MAX_NOTE:
            raise InvalidInput("err.note_long")
        photos = parse_photos(contents, filenames)
    except InvalidInput as exc:
        return Outcome(False, t(exc.key, lang))
    assert isinstance(category, str)
    try:
        incident_id = get_data().patrol_report(user.actor(), utcnow(), category=category, lon=x, lat=y, note=text,
                                               photos=photos)
    except IllegalMove as exc:
        auth.record_refusal(user)
        return Outcome(False, refusal_message(exc.refusal, exc.action, lang), exc.refusal)
    except psycopg.Error:
        log.exception("dashboard: a patrol report by %s failed", user.username)
        return Outcome(False, t("common.error", lang))
    log.info("dashboard: patrol report %s by %s", incident_id, user.username)
    return _done(incident_id, Action.PATROL_REPORT, lang)


def act_on_click(action: Action, roles: tuple[Role, ...], version: int | None) -> tuple[html.Div, int]:
    """A click on an incident's ``action`` button (the index of its id is the incident): what doing it said,
    and the page's next version. A re-render that fired the callback is no click: nothing is sent."""
    incident_id = clicked()
    if incident_id is None:
        raise PreventUpdate
    return outcome_message(perform(incident_id, action, roles)), bump(version)


def issue_directive(*, title: object, body: object, townships: list[str], minutes: object) -> Outcome:
    """政令一键智达 from the command desk: session, form and townships checked here, then one transaction."""
    lang: Lang = auth.current_lang()
    try:
        user = auth.require(Role.COMMAND)
    except auth.Denied as exc:
        return Outcome(False, t(exc.key, lang))
    title_text = str(title or "").strip()
    if not title_text:
        return Outcome(False, t("directive.err.title_required", lang))
    if len(title_text) > 200:
        return Outcome(False, t("directive.err.title_long", lang))
    try:
        ack_minutes = parse_minutes(minutes)
    except InvalidInput as exc:
        return Outcome(False, t(exc.key, lang))
    data = get_data()
    known = {code for code, _ in data.townships()}
    chosen = sorted({c for c in townships if isinstance(c, str)})
    if not chosen:
        return Outcome(False, t("directive.err.targets_required", lang))
    if not set(chosen) <= known:
        return Outcome(False, t("err.township_unknown", lang))
    try:
        directive_id = data.issue_directive(title=title_text, body=str(body or "")[:5000], townships=chosen,
                                            actor=user.actor(), now=utcnow(), ack_within=timedelta(minutes=ack_minutes))
    except DirectiveError as exc:
        return Outcome(False, directive_error(exc.code, lang))
    except psycopg.Error:
        log.exception("dashboard: issuing a directive by %s failed", user.username)
        return Outcome(False, t("common.error", lang))
    log.info("dashboard: directive %s to %d townships by %s", directive_id, len(chosen), user.username)
    return Outcome(True, t("directive.issued", lang, id=directive_id, n=len(chosen)))


def acknowledge_directive(directive_id: object) -> Outcome:
    """确认收到 on the township desk, for the session's own township only."""
    lang: Lang = auth.current_lang()
    try:
        user = auth.require(Role.TOWNSHIP)
    except auth.Denied as exc:
        return Outcome(False, t(exc.key, lang))
    if not isinstance(directive_id, int) or isinstance(directive_id, bool):
        return Outcome(False, directive_error("not_addressed", lang))
    try:
        fresh = get_data().acknowledge_directive(directive_id, user.actor(), utcnow())
    except DirectiveError as exc:
        if exc.code == "not_addressed":
            auth.record_refusal(user)  # another township's directive (or none): refused for the township
        return Outcome(False, directive_error(exc.code, lang))
    except psycopg.Error:
        log.exception("dashboard: acknowledging directive %s by %s failed", directive_id, user.username)
        return Outcome(False, t("common.error", lang))
    if not fresh:
        return Outcome(False, t("directive.already_acked", lang))
    log.info("dashboard: directive %s acknowledged by %s", directive_id, user.username)
    return Outcome(True, t("directive.acked", lang, id=directive_id))


def directive_error(code: str, lang: Lang) -> str:
    key = f"directive.err.{code}"
    return t(key, lang) if key in MESSAGES else t("common.error", lang)
