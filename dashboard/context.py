"""Where a callback finds the data-access object of the app that is serving it.

Callbacks are module-level (Dash Pages), so they cannot close over the app; they
run inside the Flask request, so the app's extension slot is the natural home.
"""

from __future__ import annotations

import flask

from dashboard.data import Data

EXTENSION = "cityops_data"
READ_EXTENSION = "cityops_read_data"  # over CITYOPS_DASHBOARD_READ_URL, a read replica, when one is set


def get_data() -> Data:
    data = flask.current_app.extensions.get(EXTENSION)
    if not isinstance(data, Data):
        raise RuntimeError("dashboard data access is not configured: build the app with dashboard.app.create_app")
    return data


def get_read_data() -> Data:
    """The reads of pages that only read and can show what a read replica holds (a moment behind the primary):
    the big screen, the leader cockpit, 考核, 数据质量. Desks that act and read back what they did, the sign-in
    and every write stay on ``get_data``'s primary."""
    data = flask.current_app.extensions.get(READ_EXTENSION)
    return data if isinstance(data, Data) else get_data()
