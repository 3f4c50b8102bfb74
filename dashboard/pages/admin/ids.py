"""The ids of the 系统管理 page's components, each declared once."""

from __future__ import annotations

from enum import StrEnum


class Ids(StrEnum):
    USERS = "adm-users"
    USERS_TABLE = "adm-users-table"
    USERNAME = "adm-username"
    DISPLAY = "adm-display"
    PASSWORD = "adm-password"
    PASSWORD2 = "adm-password2"
    ROLE = "adm-role"
    TOWNSHIP = "adm-township"
    SUBMIT = "adm-submit"
    MSG = "adm-msg"
    RULES_TABLE = "adm-rules-table"
    LAYERS_TABLE = "adm-layers-table"
    DEVICES_TABLE = "adm-devices-table"
