"""Build the Dash application: pages, login gate, pool, local assets only.

Everything the browser loads comes from this server (``serve_locally``, a map style
file in ``assets/``, no tiles, no CDN, no version check): the command center runs
on an intranet without internet.
"""

from __future__ import annotations

import importlib
import logging
import sys
from pathlib import Path

import dash
import flask

from dashboard import auth, routes
from dashboard.context import EXTENSION
from dashboard.data import Data
from store.db import make_pool

log = logging.getLogger("cityops.dashboard")

# The shell first: it registers a callback of its own, and the pages import its helpers.
PAGE_MODULES = ("dashboard.shell", "dashboard.pages.overview", "dashboard.pages.township", "dashboard.pages.command",
                "dashboard.pages.incident", "dashboard.pages.leader", "dashboard.pages.quality",
                "dashboard.pages.admin")
ASSETS = Path(__file__).parent / "assets"


def _import_pages() -> None:
    """Import (or re-import, for a second app in one process) the page modules.

    ``register_page`` and module-level ``@callback`` register into Dash's globals,
    which the next app takes over at its first request; re-executing the modules is
    what gives a second app its own copy.
    """
    for name in PAGE_MODULES:
        module = sys.modules.get(name)
        if module is None:
            importlib.import_module(name)
        else:
            importlib.reload(module)


def create_app(dsn: str, *, secret_key: str, pool_size: int = 4) -> dash.Dash:
    pool = make_pool(dsn, "dashboard", min_size=1, max_size=pool_size)
    data = Data(pool)
    server = flask.Flask("dashboard")
    # flask-compress knows JSON but not GeoJSON, and the boundary layers are the biggest download.
    server.config["COMPRESS_MIMETYPES"] = ["text/html", "text/css", "text/javascript", "application/javascript",
                                           "application/json", "application/geo+json", "image/svg+xml"]
    app = dash.Dash(
        "dashboard",
        server=server,
        use_pages=True,
        pages_folder="",  # pages are imported explicitly below, as ordinary modules tests can import
        assets_folder=str(ASSETS),
        serve_locally=True,
        compress=True,  # gzip/brotli: the boundary GeoJSON shrinks ~4×
        suppress_callback_exceptions=True,  # page components exist only while their page is shown
        title="城市运行一网统管",
        update_title=None,  # the big screen refreshes every 3 s: no flickering tab title
        enable_mcp=False,  # never expose callbacks to other clients
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
    )
    # No outside version-check request, whatever the debug flag or environment says.
    app.enable_dev_tools(debug=False, dev_tools_disable_version_check=True, dev_tools_ui=False,
                         dev_tools_hot_reload=False)
    app.server.extensions[EXTENSION] = data
    auth.configure(app.server, secret_key)
    routes.register(app.server, data)
    _import_pages()
    app.layout = sys.modules["dashboard.shell"].layout
    paths = [p.get("path_template") or p["path"] for p in dash.page_registry.values()]
    log.info("dashboard ready: pages %s", ", ".join(paths))
    return app


def run(app: dash.Dash, host: str, port: int, *, debug: bool = False) -> None:
    """Flask's threaded server: enough for a demo and a few screens (gunicorn + wsgi.py beyond)."""
    app.run(host=host, port=port, debug=debug, dev_tools_disable_version_check=True, dev_tools_hot_reload=False,
            threaded=True, use_reloader=False)

