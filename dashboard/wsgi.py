"""WSGI entry for gunicorn: ``gunicorn -w 4 -b 127.0.0.1:8050 dashboard.wsgi:server``.

Reads CITYOPS_DATABASE_URL and CITYOPS_SECRET_KEY (cityops.settings). Each worker
has its own pool and boundary cache; sessions are signed cookies, so any worker
serves any user.
"""

from __future__ import annotations

import logging

from cityops import settings as cityops_settings
from dashboard.app import create_app

_conf = cityops_settings.load()
if _conf.secret_key == "cityops-demo-secret-change-me":
    logging.getLogger("cityops.dashboard").warning(
        "dashboard: CITYOPS_SECRET_KEY is the demo default; anyone who knows it can forge sessions")
app = create_app(_conf.dsn("dashboard"), secret_key=_conf.secret_key)
server = app.server
