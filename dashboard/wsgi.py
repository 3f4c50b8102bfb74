"""WSGI entry for gunicorn: ``gunicorn -c python:dashboard.gunicorn_conf dashboard.wsgi:server``.

Reads CITYOPS_DASHBOARD_DATABASE_URL, CITYOPS_DASHBOARD_READ_URL (a read replica, optional) and
CITYOPS_SECRET_KEY (cityops.settings), and refuses to start
on the demo's secrets unless CITYOPS_DEMO=1. Each worker has its own pool and boundary cache; sessions
are signed cookies, so any worker serves any user.
"""

from __future__ import annotations

from cityops import settings as cityops_settings
from dashboard.__main__ import refuse_demo_secrets, session_policy
from dashboard.app import create_app
from dashboard.observe import start_heartbeat

_conf = cityops_settings.load()
if not _conf.demo:
    refuse_demo_secrets(_conf.dsn("dashboard"), _conf.secret_key)
app = create_app(_conf.dsn("dashboard"), secret_key=_conf.secret_key, sessions=session_policy(_conf),
                 read_dsn=_conf.dashboard_read_url)
server = app.server
heartbeat = start_heartbeat(app, _conf.dsn("dashboard"))
