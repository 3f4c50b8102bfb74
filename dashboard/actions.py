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
from dataclasses import dataclass

import psycopg

from alerts.incidents import IncidentNotFound
from alerts.lifecycle import Action, IllegalMove, Refusal, Role
from dashboard import auth
from dashboard.context import get_data
from dashboard.data import Photo
from dashboard.i18n import Lang, action_label, refusal_message, t
from dashboard.timefmt import utcnow

log = logging.getLogger("cityops.dashboard.actions")

MAX_PHOTO_BYTES = 5 * 1024 * 1024
MAX_EVACUATED = 10_000_000  # more than a city's population is a typo, not a report
# The photo's kind is read from its first bytes, never from the name or the browser's claim.
_MAGIC: tuple[tuple[bytes, int, str], ...] = (
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"WEBP", 8, "image/webp"),
)
_DATA_URL = re.compile(r"^data:[^;,]*;base64,(?P<b64>.*)$", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    text: str


class InvalidInput(ValueError):
    """A form value the server will not accept; ``key`` names the i18n message."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


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


def parse_photo(contents: str | None, filename: str | None) -> Photo | None:
    """A ``dcc.Upload`` data URL checked to be a JPEG, PNG or WebP of at most 5 MB; None if no photo."""
    if not contents:
        return None
    m = _DATA_URL.match(contents)
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


def perform(incident_id: object, action: Action, roles: tuple[Role, ...], *, note: str = "",
            township_code: str | None = None, details: dict[str, object] | None = None,
            photo: Photo | None = None) -> Outcome:
    """Check the session, apply ``action`` to the incident, and say what happened."""
    lang: Lang = auth.current_lang()
    try:
        user = auth.require(*roles)
    except auth.Denied as exc:
        return Outcome(False, t(exc.key, lang))
    if not isinstance(incident_id, int) or isinstance(incident_id, bool):
        return Outcome(False, t("common.not_found", lang))  # ids come from the browser: trust nothing
    data = get_data()
    if user.role is Role.TOWNSHIP:
        incident = data.incident(incident_id)
        if incident is None or incident["township_code"] != user.township_code:
            # Same answer whether the incident exists or not: no probing other townships' ids.
            return Outcome(False, refusal_message(Refusal.NOT_YOUR_TOWNSHIP, action, lang))
    try:
        data.act(incident_id, action, user.actor(), utcnow(), note=note, township_code=township_code,
                 details=details, photo=photo)
    except IllegalMove as exc:
        return Outcome(False, refusal_message(exc.refusal, exc.action, lang))
    except IncidentNotFound:
        return Outcome(False, t("common.not_found", lang))
    except psycopg.Error:
        log.exception("dashboard: %s on incident %s by %s failed", action, incident_id, user.username)
        return Outcome(False, t("common.error", lang))
    log.info("dashboard: %s on incident %s by %s (%s)", action, incident_id, user.username, user.role)
    sep = "：" if lang == "zh" else ": "
    return Outcome(True, f"#{incident_id} {action_label(action, lang)}{sep}{t('common.done', lang)}")
