"""The SQL a database administrator runs once for a production database: the owner that runs the
migrations and one login per runtime process, each a member of its NOLOGIN grant role (created and
granted by ``store/migrations/0008_roles.sql``). Printed, never run: the administrator reads it,
sets the passwords and runs it as a superuser.
"""

from __future__ import annotations

from cityops.settings import DB_ROLES, OWNER, runtime_role


def production_sql(database: str = "cityops", owner: str = OWNER, login_suffix: str = "_app") -> str:
    lines = [
        "-- 1. As a superuser: the owner (runs `python -m store migrate`, imports, registration) and the database.",
        f"CREATE ROLE {owner} LOGIN PASSWORD :'owner_password';",
        f"CREATE DATABASE {database} OWNER {owner};",
        f"\\connect {database}",
        "-- TimescaleDB where the server has it (plain PostgreSQL runs the plain flavour of the migrations):",
        "SELECT 'CREATE EXTENSION IF NOT EXISTS timescaledb'",
        "    WHERE EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') \\gexec",
        "",
        "-- 2. The grant roles (shared by every database of the server: created once), so the logins below can join",
        "--    them before the first migration runs.",
    ]
    lines += [f"SELECT 'CREATE ROLE {runtime_role(r)} NOLOGIN' WHERE NOT EXISTS"
              f" (SELECT 1 FROM pg_roles WHERE rolname = '{runtime_role(r)}') \\gexec" for r in DB_ROLES]
    lines += ["", "-- 3. One login per runtime process: it owns nothing and has only its role's grants."]
    for r in DB_ROLES:
        login = f"{runtime_role(r)}{login_suffix}"
        lines += [f"CREATE ROLE {login} LOGIN PASSWORD :'{r}_password' IN ROLE {runtime_role(r)};"]
    lines += [
        "",
        "-- 4. Then, as the owner: python -m store migrate",
        "--    and give each process its URL:",
        f"--    CITYOPS_DATABASE_URL=postgresql://{owner}:…@db/{database}   (migrations, imports, registration)",
    ]
    lines += [f"--    CITYOPS_{r.upper()}_DATABASE_URL=postgresql://{runtime_role(r)}{login_suffix}:…@db/{database}"
              for r in DB_ROLES]
    return "\n".join(lines) + "\n"
