"""Personal data of a 12345 ticket's reporter: what ingest accepts, how it is masked, who sees it whole.

Pure, and below every package that handles it: ingest normalises what it stores, the alert engine
masks what it sends to township apps, the dashboard masks what it shows. Masking is total: any text
comes out masked, a value this module would not have accepted as well as one it did.

- A phone is a mainland mobile (``1[3-9]`` and 9 more digits) or a landline with its area code (010,
  02x, or 0 and three digits, then a local number of 7 or 8 digits not starting with 0 or 1).
  Spaces, hyphens and parentheses are ignored, full-width digits read as digits; ``+86`` or ``0086``
  may lead (a landline then may drop its 0). Stored as ``13900001234`` or ``0735-2221234``.
- Masked, a mobile keeps its first three and last four digits (``139****1234``); a landline its area
  code and what follows the first four digits of its local number (``0735-****234``,
  ``010-****5678``); anything else is ``****``.
- Masked, a name keeps its first character and hides how long it is (``张**``, ``J**``); a name of
  one character is ``*``; no name stays empty.
- Any other text (a dead letter's raw payload) is shown with every phone-like number and every JSON
  ``name`` / ``phone`` value masked (``mask_text``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_SEPARATORS = re.compile(r"[\s()\-]")
_INTERNATIONAL = re.compile(r"(?:\+|00)86")
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_LANDLINE = re.compile(r"(?P<area>010|02[0-9]|0[3-9][0-9]{2})(?P<local>[2-9][0-9]{6,7})")
_HIDDEN = "****"

# The roles that see a reporter whole (values of ``alerts.lifecycle.Role``, which this layer cannot import):
# the command center calls reporters back (回访); township staff, for the incidents their township handles.
COMMAND = "command"
UNIT_STAFF = frozenset({"township", "department"})  # the staff of the unit an incident is with

# What looks like a phone inside any text (a dead letter's payload): a mobile or a landline, with the separators
# and prefix a caller may type, never part of a longer run of digits (a device id, a timestamp).
_PHONE_IN_TEXT = re.compile(r"(?<![0-9])(?:(?:\+|00)86[\s-]?)?(?:1[3-9][0-9](?:[\s-]?[0-9]){8}"
                            r"|\(?0[0-9]{2,3}\)?[\s-]?[2-9][0-9]{6,7})(?![0-9])")
_DIGITS_AT_CUT = re.compile(r"\+?(?:[0-9][\s-]?){4,}$")
# A reporter's name or phone as a JSON field, even in the cut-off start of a payload.
_FIELD_IN_TEXT = re.compile(r'("(?P<key>name|phone|reporter_name|reporter_phone)"\s*:\s*")(?P<value>[^"]*)(")')


@dataclass(frozen=True, slots=True)
class Reporter:
    name: str  # "" when the caller gave none
    phone: str  # as ``normalise_phone`` gives it

    def masked(self) -> Reporter:
        return Reporter(mask_name(self.name), mask_phone(self.phone))


def normalise_phone(text: str) -> str:
    """The number in its stored form; ValueError when it is not a plausible Chinese mobile or landline."""
    digits = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text))  # full-width digits as typed in Chinese
    if (international := _INTERNATIONAL.match(digits)) is not None:
        digits = digits[international.end():]
        if not _MOBILE.fullmatch(digits) and not digits.startswith("0"):
            digits = "0" + digits  # dialled from abroad, a landline drops its trunk 0
    if _MOBILE.fullmatch(digits):
        return digits
    if (landline := _LANDLINE.fullmatch(digits)) is not None:
        return f"{landline['area']}-{landline['local']}"
    raise ValueError("not a plausible Chinese mobile or landline number")


def normalise_name(text: str) -> str:
    """Inner runs of white space as one space, none at the ends."""
    return " ".join(text.split())


def mask_phone(phone: str) -> str:
    if not phone.strip():
        return ""
    try:
        stored = normalise_phone(phone)
    except ValueError:
        return _HIDDEN
    area, _, local = stored.rpartition("-")
    if area:
        return f"{area}-{_HIDDEN}{local[4:]}"
    return f"{stored[:3]}{_HIDDEN}{stored[7:]}"


def mask_name(name: str) -> str:
    name = name.strip()
    return name[0] + "**" if len(name) > 1 else "*" * len(name)


def may_see_unmasked(role: str, own_township: str | None, incident_township: str | None) -> bool:
    """The command center, and the staff of the unit (township or department) the incident is with now;
    leaders, admins, other units (one it was transferred from, one that assists) see the masked form."""
    if role == COMMAND:
        return True
    return role in UNIT_STAFF and own_township is not None and own_township == incident_township


def mask_text(text: str) -> str:
    """``text`` with every phone-like number masked, and the value of every JSON ``name`` / ``phone`` field
    (a raw payload that could not be stored shows nobody's personal data)."""
    def field(m: re.Match[str]) -> str:
        value = m["value"]
        hidden = mask_phone(value) if "phone" in m["key"] else mask_name(value)
        return f"{m.group(1)}{hidden}{m.group(4)}"

    return _PHONE_IN_TEXT.sub(lambda m: mask_phone(m.group(0)), _FIELD_IN_TEXT.sub(field, text))


def payload_preview(head: bytes | None, size: int | None, chars: int | None = None) -> str:
    """The start of a refused payload (its first bytes, ``size`` the whole's) as masked text, at most ``chars``
    characters, with " …" when there is more."""
    text = bytes(head or b"").decode("utf-8", errors="replace")
    cut = text if chars is None else text[:chars]
    more = int(size or 0) > len(head or b"") or len(cut) < len(text)
    if more:  # a number cut at the edge is no longer a phone to the pattern: hide what is left of it
        cut = _DIGITS_AT_CUT.sub(_HIDDEN, cut)
    return mask_text(cut) + (" …" if more else "")
