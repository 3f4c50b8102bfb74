"""The ids of the 修改密码 page's components, each declared once."""

from __future__ import annotations

from enum import StrEnum


class Ids(StrEnum):
    CURRENT = "acc-current"
    NEW = "acc-new"
    NEW2 = "acc-new2"
    SUBMIT = "acc-submit"
    MSG = "acc-msg"
