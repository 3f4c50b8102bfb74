"""Where a callback finds the data-access object of the app that is serving it.

Callbacks are module-level (Dash Pages), so they cannot close over the app; they
run inside the Flask request, so the app's extension slot is the natural home.
"""

from __future__ import annotations

import flask

from dashboard.data import Data

EXTENSION = "cityops_data"


def get_data() -> Data:
    data = flask.current_app.extensions.get(EXTENSION)
    if not isinstance(data, Data):
        raise RuntimeError("dashboard data access is not configured: build the app with dashboard.app.create_app")
    return data
