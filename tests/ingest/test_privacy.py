"""The personal-data rules of ``store.privacy`` as tables: which phones are accepted and how they are stored,
how names and phones are masked (short, odd and non-Chinese values too), and who sees them whole."""

from __future__ import annotations

import pytest

from alerts.lifecycle import Role
from store.privacy import (
    Reporter,
    mask_name,
    mask_phone,
    mask_text,
    may_see_unmasked,
    normalise_name,
    normalise_phone,
    payload_preview,
)


@pytest.mark.parametrize(("given", "stored"), [
    ("13900001234", "13900001234"),
    ("139 0000 1234", "13900001234"),
    ("139-0000-1234", "13900001234"),
    ("+86 139 0000 1234", "13900001234"),
    ("0086-13900001234", "13900001234"),
    ("１３９００００１２３４", "13900001234"),  # full-width, as a Chinese keyboard types it
    ("19212345678", "19212345678"),
    ("0735-2221234", "0735-2221234"),  # 郴州: four-digit area code, seven-digit number
    ("(0735) 22212345", "0735-22212345"),
    ("07352221234", "0735-2221234"),
    ("010 6234 5678", "010-62345678"),  # 北京: three-digit area code
    ("02087654321", "020-87654321"),
    ("+86 735 2221234", "0735-2221234"),  # from abroad the trunk 0 is dropped
    ("+86 (0)735 2221234", "0735-2221234"),
])
def test_plausible_phones_are_stored_in_one_form(given: str, stored: str) -> None:
    assert normalise_phone(given) == stored


@pytest.mark.parametrize("given", [
    "", "   ", "12345", "110", "12345678901",  # 12x is no mobile prefix
    "1390000123", "139000012345",  # a digit short, a digit long
    "2221234",  # a local number without its area code
    "0735-0221234", "0735-1221234",  # a local number does not start with 0 or 1
    "0735-22212", "011-62345678",  # too short; 011 is no area code
    "4008001234", "95588",  # service numbers are nobody's phone
    "+1 415 555 0100", "86 13900001234",  # abroad; 86 without + or 00
    "139O0001234", "139.0000.1234", "tel:13900001234",  # letters and other punctuation
    "١٣٩٠٠٠٠١٢٣٤",  # Arabic-Indic digits are digits to Python's \\d, not to a phone
])
def test_implausible_phones_are_refused(given: str) -> None:
    with pytest.raises(ValueError, match="not a plausible Chinese mobile or landline number"):
        normalise_phone(given)


@pytest.mark.parametrize(("phone", "masked"), [
    ("13800005678", "138****5678"),
    ("138 0000 5678", "138****5678"),  # any accepted spelling masks as its stored form
    ("0735-2221234", "0735-****234"),  # at least four digits hidden, also of a seven-digit number
    ("0735-22215678", "0735-****5678"),
    ("010-62345678", "010-****5678"),
    ("12345", "****"),  # odd values show nothing of themselves, not even their length
    ("x", "****"),
    ("1", "****"),
    ("", ""),
    ("  ", ""),
])
def test_phone_masks(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked


@pytest.mark.parametrize(("name", "masked"), [
    ("张三", "张**"),
    ("张三丰", "张**"),  # the length is not told
    ("欧阳娜娜", "欧**"),  # a compound surname keeps only its first character
    ("李先生", "李**"),
    ("阿依古丽·买买提", "阿**"),
    ("John Smith", "J**"),
    ("Li", "L**"),
    ("王", "*"),  # one character is all of it
    ("A", "*"),
    (" 张三 ", "张**"),
    ("", ""),
    ("   ", ""),
])
def test_name_masks(name: str, masked: str) -> None:
    assert mask_name(name) == masked


@pytest.mark.parametrize(("given", "stored"), [
    ("张三", "张三"), ("  John   Smith ", "John Smith"), ("王\t五\n", "王 五"), ("", "")])
def test_names_are_stored_with_plain_spaces(given: str, stored: str) -> None:
    assert normalise_name(given) == stored


def test_a_reporter_masks_both_fields() -> None:
    assert Reporter("张三", "13900001234").masked() == Reporter("张**", "139****1234")
    assert Reporter("", "0735-2221234").masked() == Reporter("", "0735-****234")


A, B = "431002001", "431002002"


@pytest.mark.parametrize(("role", "own", "incident", "unmasked"), [
    (Role.COMMAND, None, A, True),  # the command center calls reporters back (回访)
    (Role.COMMAND, None, None, True),
    (Role.TOWNSHIP, A, A, True),  # the township handling it calls the reporter
    (Role.TOWNSHIP, B, A, False),  # another township (it was transferred from, or it assists)
    (Role.TOWNSHIP, None, None, False),  # an account without a township, an incident without one
    (Role.TOWNSHIP, A, None, False),
    (Role.DEPARTMENT, "dept-slj", "dept-slj", True),  # a department handling it, as a township does
    (Role.DEPARTMENT, "dept-slj", A, False),  # one that assists a township's incident
    (Role.LEADER, None, A, False),
    (Role.ADMIN, None, A, False),
    (Role.SYSTEM, None, A, False),
])
def test_who_sees_a_reporter_unmasked(role: Role, own: str | None, incident: str | None, unmasked: bool) -> None:
    assert may_see_unmasked(role, own, incident) is unmasked


@pytest.mark.parametrize(("text", "shown"), [
    ('{"reporter": {"name": "张三丰", "phone": "139 0000 1234"}, "ts": "2026-12-03T08:00:00Z"',
     '{"reporter": {"name": "张**", "phone": "139****1234"}, "ts": "2026-12-03T08:00:00Z"'),
    ("来电 13900001234，另 0735-2221234 / +86 138-0013-8000", "来电 139****1234，另 0735-****234 / 138****8000"),
    ("rg-431002001-3 at 1796302564: 13.5 mm", "rg-431002001-3 at 1796302564: 13.5 mm"),  # ids and times stay
    ('{"phone": "not a number"', '{"phone": "****"'),
    ('{"reporter_name": "李', '{"reporter_name": "李'),  # cut off mid-value: no closing quote, nothing to match
])
def test_any_text_shows_no_phone_and_no_named_person(text: str, shown: str) -> None:
    assert mask_text(text) == shown


def test_a_payload_preview_is_cut_and_masked() -> None:
    head = b'{"reporter": {"phone": "13900001234"}}'
    assert payload_preview(head, len(head)) == '{"reporter": {"phone": "139****1234"}}'
    assert payload_preview(head, 5000) == '{"reporter": {"phone": "139****1234"}} …'
    assert payload_preview("来电13900001234".encode(), 200, chars=6) == "来电**** …"  # a number cut at the edge
    assert payload_preview("来电1390000123".encode(), 200) == "来电**** …"  # ten of its eleven digits: hidden too
