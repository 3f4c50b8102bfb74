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
    DISTRICT = "adm-district"  # a district desk's (区县指挥中心) district
    GRIDS = "adm-grids"  # a grid member's (网格员) grids, as typed
    SUBMIT = "adm-submit"
    MSG = "adm-msg"
    VERSION = "adm-version"  # bumped by a new account or an unlock: the lists that show them are read again
    # managing one account
    ACCOUNT = "adm-account"
    EDIT_FORM = "adm-edit-form"
    ACCOUNT_STATE = "adm-account-state"
    EDIT_ROLE = "adm-edit-role"
    EDIT_TOWNSHIP = "adm-edit-township"
    EDIT_DISTRICT = "adm-edit-district"
    EDIT_GRIDS = "adm-edit-grids"
    SAVE = "adm-save"
    RESET_PASSWORD = "adm-reset-password"
    RESET_PASSWORD2 = "adm-reset-password2"
    RESET = "adm-reset"
    DISABLE = "adm-disable"
    ENABLE = "adm-enable"
    EDIT_MSG = "adm-edit-msg"
    EDITED = "adm-edited"  # bumped by a change of the chosen account: its form and the lists are read again
    # lock-outs and the login log
    LOCKS = "adm-locks"
    LOCKS_TABLE = "adm-locks-table"
    LOCK = "adm-lock"
    UNLOCK = "adm-unlock"
    LOCK_MSG = "adm-lock-msg"
    AUDIT = "adm-audit"
    AUDIT_TABLE = "adm-audit-table"
    AUDIT_USER = "adm-audit-user"
    AUDIT_EVENT = "adm-audit-event"
    RULES_TABLE = "adm-rules-table"
    LAYERS_TABLE = "adm-layers-table"
    DEVICES_TABLE = "adm-devices-table"
    PROCESSES = "adm-processes"
    PROCESS_TICK = "adm-process-tick"
