"""Shared storage: schema migrations, the connection pool, and the SQL every part uses."""
