"""部门 (行业主管部门): the departments incidents go to besides the townships, and the categories each handles.

A department is a unit like a township: its unit code (``dept-<code>``) stands where a township code stands
on an incident, in its staff's accounts and in the ``dispatch/<unit>`` topic its app subscribes to. An incident
of a category a department handles, dispatched to a township, gets that department as 协办.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg.rows import class_row

UNIT_PREFIX = "dept-"
DEMO_PASSWORD = "bm123456"  # the demo department accounts' (bm<code>), like the townships' zj123456


@dataclass(frozen=True, slots=True)
class Department:
    code: str
    name: str
    categories: list[str]

    @property
    def unit(self) -> str:
        return unit_code(self.code)


def unit_code(code: str) -> str:
    return f"{UNIT_PREFIX}{code}"


def is_department_unit(unit: str | None) -> bool:
    return bool(unit) and str(unit).startswith(UNIT_PREFIX)


def department_username(code: str) -> str:
    return f"bm{code}"


# The demo city's departments, each with the categories of alerts/rules.toml it is the 行业主管 of.
DEMO_DEPARTMENTS = (
    Department("slj", "水利局", ["flood"]),
    Department("yjglj", "应急管理局", ["production_safety"]),
    Department("gaj", "公安局", ["public_safety"]),
    Department("jtysj", "交通运输局", ["hazmat"]),
)


def save(conn: psycopg.Connection, departments: tuple[Department, ...] | list[Department]) -> None:
    for d in departments:
        conn.execute("INSERT INTO departments (code, name, categories) VALUES (%s, %s, %s)"
                     " ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, categories = EXCLUDED.categories",
                     (d.code, d.name, list(d.categories)))


def departments(conn: psycopg.Connection) -> list[Department]:
    with conn.cursor(row_factory=class_row(Department)) as cur:
        return cur.execute("SELECT code, name, categories FROM departments ORDER BY code").fetchall()


def units_for(conn: psycopg.Connection, category: str) -> list[str]:
    """The units of the departments that handle ``category``."""
    rows = conn.execute("SELECT code FROM departments WHERE %s = ANY(categories) ORDER BY code", (category,))
    return [unit_code(code) for (code,) in rows]
