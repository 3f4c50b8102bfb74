"""What the 系统管理 page reads, as typed models: the accounts, the alert rules (config as code,
``alerts/rules.toml``, validated whole), the boundary layer versions and the devices by type."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from alerts.rules import Rule, RuleError, load_rules
from dashboard.data import Data


@dataclass(frozen=True, slots=True)
class Accounts:
    rows: pd.DataFrame  # username, display_name, role, township_code; by role, then name
    names: dict[str, str]  # region code → name


@dataclass(frozen=True, slots=True)
class Rules:
    rules: tuple[Rule, ...]  # every rule, validated
    error: str | None  # why the file was refused whole (then no rules)


@dataclass(frozen=True, slots=True)
class Page:
    townships: list[tuple[str, str]]  # (code, name): whom a township account may belong to
    accounts: Accounts
    rules: Rules
    layers: pd.DataFrame  # boundary versions with their counts of districts, townships and grids
    devices: pd.DataFrame  # devices and those online, per type and department


def accounts(data: Data) -> Accounts:
    return Accounts(data.users(), data.region_names())


def rules() -> Rules:
    try:
        return Rules(load_rules(), None)
    except RuleError as exc:
        return Rules((), str(exc))


def page(data: Data, now: datetime) -> Page:
    return Page(data.townships(), accounts(data), rules(), data.boundary_versions(), data.devices_by_type(now))
