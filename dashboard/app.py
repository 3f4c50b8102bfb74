"""Build the Dash application: pages, login gate, pool, local assets only.

Everything the browser loads comes from this server (``serve_locally``, a map style
file in ``assets/``, no tiles, no CDN, no version check, a Chinese web font of its own):
the command center runs on an intranet without internet.
"""

from __future__ import annotations

import graphlib
import hashlib
import importlib
import json
import logging
import re
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import dash
import flask
from plotly.offline import get_plotlyjs_version
from werkzeug.wrappers import Response as BaseResponse  # what make_conditional returns

from cityops.settings import PROJECT_ROOT
from dashboard import auth, headers, observe, routes
from dashboard.context import EXTENSION, READ_EXTENSION
from dashboard.data import Data
from store.db import make_pool

log = logging.getLogger("cityops.dashboard")

# The shell first: it registers a callback of its own, and the pages import its helpers; so does the 应急响应 banner.
PAGE_MODULES = ("dashboard.shell", "dashboard.response_level", "dashboard.pages.overview", "dashboard.pages.township",
                "dashboard.pages.grid", "dashboard.pages.command",
                "dashboard.pages.incident", "dashboard.pages.leader", "dashboard.pages.assessment",
                "dashboard.pages.quality", "dashboard.pages.rectification", "dashboard.pages.admin",
                "dashboard.pages.account")  # account after admin: it uses admin's rules
ASSETS = Path(__file__).parent / "assets"

# Noto Sans SC as woff2 slices split by unicode-range (npm @fontsource-variable/noto-sans-sc, OFL-1.1,
# installed by ./cityops.sh): a browser fetches only the slices of the characters on its page.
WEBFONT_PACKAGE = PROJECT_ROOT / "tools" / "webfont" / "node_modules" / "@fontsource-variable" / "noto-sans-sc"
WEBFONT_CSS = "/assets/fonts/noto-sans-cjk-sc.css"  # @import-ed by cityops.css, so the login page has it too
# The served faces carry the name of the font they are (Noto Sans SC is Noto Sans CJK SC's web
# edition), so every stack that names it, plotly's figures included, gets them. local() comes first:
# a client with the font installed uses its own copy and downloads nothing.
WEBFONT_FAMILY = "Noto Sans CJK SC"
_WEBFONT_LOCAL = {400: ("Noto Sans CJK SC", "Noto Sans CJK SC Regular", "NotoSansCJKsc-Regular"),
                  700: ("Noto Sans CJK SC Bold", "NotoSansCJKsc-Bold")}
_YEAR_S = 365 * 24 * 3600

# plotly.js with only the trace types the dashboard draws (tools/plotly, built by ./cityops.sh): served at
# the URL Dash's renderer loads plotly.js from (``window._dashPlotlyJSURL``), in place of plotly.py's full
# bundle. The map library is most of what is left, so the saving is the other trace types.
PLOTLY_BUNDLE = PROJECT_ROOT / "tools" / "plotly" / "dist" / "plotly-cityops.min.js"
PLOTLY_JS_URL = "/_dash-component-suites/plotly/package_data/plotly.min.js"
_PLOTLY_VERSION = re.compile(rb"plotly\.js v(\d+\.\d+\.\d+)")


# date-fns's zh-CN locale (npm date-fns, MIT, installed by ./cityops.sh): Dash's date picker takes its month and
# weekday names from ``window.dateFns.locale``, which this script fills; cityops.js hands it on on Chinese pages.
DATEFNS_ZH = PROJECT_ROOT / "tools" / "datefns" / "node_modules" / "date-fns" / "locale" / "zh-CN" / "cdn.min.js"
DATEFNS_ZH_URL = "/vendor/date-fns/zh-CN.js"  # loaded before the assets (``external_scripts``)


class CityopsDash(dash.Dash):
    """Dash whose pages say their language in ``<html lang>``, so the browser picks Simplified Chinese glyph
    forms, screen readers the right voice, and the date picker (cityops.js) its month and weekday names."""

    def interpolate_index(self, *args: str, **kwargs: str) -> str:
        lang = "zh-CN" if auth.current_lang() == "zh" else "en"
        return str(super().interpolate_index(*args, **kwargs)).replace("<html>", f'<html lang="{lang}">', 1)


def _revalidated(data: bytes | str, mimetype: str) -> Callable[[], BaseResponse]:
    """A view answering ``data`` with an ETag and ``no-cache``: browsers revalidate (a 304) and see a new
    version at once, for URLs that carry no version of their own."""
    etag = hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()[:32]

    def serve() -> BaseResponse:
        response = flask.Response(data, mimetype=mimetype)
        response.cache_control.no_cache = True
        response.set_etag(etag)
        return response.make_conditional(flask.request)

    return serve


def _reload_order(package: str) -> list[str]:
    """The loaded submodules of ``package``, each after the siblings whose objects it holds (what it imports)."""
    subs = {name for name, module in sys.modules.items() if name.startswith(f"{package}.") and module is not None}

    def imported(name: str) -> set[str]:
        held = {v.__name__ if isinstance(v, ModuleType) else getattr(v, "__module__", "")
                for v in vars(sys.modules[name]).values()}
        return {sub for sub in held & subs if sub != name}

    return list(graphlib.TopologicalSorter({name: imported(name) for name in subs}).static_order())


def _import_pages() -> None:
    """Import (or re-import, for a second app in one process) the page modules.

    ``register_page`` and module-level ``@callback`` register into Dash's globals,
    which the next app takes over at its first request; re-executing the modules is
    what gives a second app its own copy. A page that is a package re-executes its
    submodules first (where its callbacks are), then itself, so it binds their new objects.
    """
    for name in PAGE_MODULES:
        module = sys.modules.get(name)
        if module is None:
            importlib.import_module(name)
            continue
        for sub in _reload_order(name):
            importlib.reload(sys.modules[sub])
        importlib.reload(module)


def _slice_file(key: str) -> str:
    """The woff2 file of one slice of the package's unicode.json ("[12]", "latin", ...)."""
    return f"noto-sans-sc-{key.strip('[]')}-wght-normal.woff2"


def _font_faces(url_base: str, ranges: dict[str, str]) -> str:
    """One @font-face per slice and weight (400, 700: the weights a local copy has), in the package's order."""
    rules = []
    for key, unicode_range in ranges.items():
        url = f"{url_base}/{_slice_file(key)}"
        for weight, names in _WEBFONT_LOCAL.items():
            local = ", ".join(f'local("{name}")' for name in names)
            rules.append(f'@font-face {{ font-family: "{WEBFONT_FAMILY}"; font-style: normal; font-weight: {weight};'
                         f' font-display: swap; src: {local}, url({url}) format("woff2");'
                         f' unicode-range: {unicode_range}; }}')
    return "\n".join(rules) + "\n"


def register_webfont(server: flask.Flask, package: Path) -> None:
    """Serve the web font's CSS at ``WEBFONT_CSS`` and its slices beside it.

    Without the package the CSS is empty (no request can fail) and pages use the client's own fonts.
    """
    try:
        version = json.loads((package / "package.json").read_text())["version"]
        ranges: dict[str, str] = json.loads((package / "unicode.json").read_text())
        files = package / "files"
        missing = [key for key in ranges if not (files / _slice_file(key)).is_file()]
        if missing:
            raise FileNotFoundError(f"{len(missing)} of {len(ranges)} slices missing in {files}")
    except (OSError, ValueError, KeyError) as exc:
        log.warning("web font not installed (%s): pages use the client's own CJK fonts (./cityops.sh installs it)",
                    exc)
        css = "/* web font not installed: the client's own fonts are used */\n"
    else:
        url_base = f"/assets/fonts/{version}"
        css = _font_faces(url_base, ranges)
        server.add_url_rule(f"{url_base}/<name>", "webfont_file",
                            lambda name: flask.send_from_directory(files, name, max_age=_YEAR_S))

    server.add_url_rule(WEBFONT_CSS, "webfont_css", _revalidated(css, "text/css"))


def register_date_locale(server: flask.Flask, script: Path) -> None:
    """Serve date-fns's zh-CN locale at ``DATEFNS_ZH_URL``; without it a comment (the page loads it either
    way) and the date picker names months and weekdays in English."""
    try:
        data = script.read_bytes()
    except OSError as exc:
        log.warning("date picker locale not installed (%s): month and weekday names stay English"
                    " (./cityops.sh installs it)", exc)
        data = b"/* date-fns zh-CN locale not installed: the date picker names months and weekdays in English */\n"
    server.add_url_rule(DATEFNS_ZH_URL, "date_locale", _revalidated(data, "text/javascript"))


def register_plotly_bundle(server: flask.Flask, bundle: Path) -> bool:
    """Serve ``bundle`` at ``PLOTLY_JS_URL`` (a static rule: Werkzeug matches it before Dash's
    ``<package_name>/<path>`` one) when it is built from the plotly.js version plotly.py writes figures for.

    Otherwise Dash's full plotly.min.js is served, with a warning. The URL has no version in it, so the
    bundle is revalidated by ETag (a 304) rather than cached for long.
    """
    wanted = get_plotlyjs_version()
    try:
        data = bundle.read_bytes()
    except OSError as exc:
        log.warning("trimmed plotly.js not built (%s): serving Dash's full plotly.min.js (./cityops.sh builds it)",
                    exc)
        return False
    found = _PLOTLY_VERSION.search(data[:200])
    built = found.group(1).decode() if found else "unknown"
    if built != wanted:
        log.warning("trimmed plotly.js %s is built from plotly.js %s, plotly.py needs %s: serving Dash's full"
                    " plotly.min.js (./cityops.sh rebuilds it)", bundle, built, wanted)
        return False
    server.add_url_rule(PLOTLY_JS_URL, "plotly_bundle", _revalidated(data, "text/javascript"))
    log.info("serving trimmed plotly.js %s (%d bytes) at %s", built, len(data), PLOTLY_JS_URL)
    return True


def _cache_fingerprinted(response: flask.Response) -> flask.Response:
    """A year's max-age for the URLs whose query changes with their content: ``/assets/…?m=<mtime>``
    (Dash fingerprints assets with their modification time) and ``/_favicon.ico?v=<dash version>``.

    Flask sends them ``no-cache`` or nothing, so every load of a page revalidated each. Dash's own
    ``.v<version>m<mtime>.`` file names already get a year; its async chunks (``dcc/async-graph.js``) and
    ``PLOTLY_JS_URL`` carry no version and stay revalidated.
    """
    request = flask.request
    versioned = (request.path.startswith("/assets/") and "m" in request.args) or (
        request.path == "/_favicon.ico" and "v" in request.args)
    if versioned and response.status_code == 200:
        response.cache_control.no_cache = None
        response.cache_control.max_age = _YEAR_S
    return response


def create_app(dsn: str, *, secret_key: str, pool_size: int = 4,
               sessions: auth.SessionPolicy | None = None, read_dsn: str | None = None) -> dash.Dash:
    """The dashboard over ``dsn`` (the primary); with ``read_dsn`` (a read replica) the pages that only read
    read there (``context.get_read_data``)."""
    pool = make_pool(dsn, "dashboard", min_size=1, max_size=pool_size)
    data = Data(pool)
    replica = Data(make_pool(read_dsn, "dashboard-replica", min_size=1, max_size=pool_size)) if read_dsn else None
    server = flask.Flask("dashboard")
    # flask-compress knows JSON but not GeoJSON, and the boundary layers are the biggest download.
    server.config["COMPRESS_MIMETYPES"] = ["text/html", "text/css", "text/javascript", "application/javascript",
                                           "application/json", "application/geo+json", "image/svg+xml"]
    app = CityopsDash(
        "dashboard",
        server=server,  # type: ignore[arg-type]  # Dash types it bool | Callable[[], Any]; it takes a Flask app
        use_pages=True,
        pages_folder="",  # pages are imported explicitly below, as ordinary modules tests can import
        assets_folder=str(ASSETS),
        serve_locally=True,
        external_scripts=[DATEFNS_ZH_URL],  # this server's own, despite the parameter's name
        compress=True,  # gzip/brotli: the boundary GeoJSON shrinks ~4×
        suppress_callback_exceptions=True,  # page components exist only while their page is shown
        title="城市运行一网统管",
        update_title="",  # the big screen refreshes every 3 s: no flickering tab title ("" as None: typed str)
        enable_mcp=False,  # never expose callbacks to other clients
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
    )
    # No outside version-check request, whatever the debug flag or environment says.
    app.enable_dev_tools(debug=False, dev_tools_disable_version_check=True, dev_tools_ui=False,
                         dev_tools_hot_reload=False)
    app.server.extensions[EXTENSION] = data
    if replica is not None:
        app.server.extensions[READ_EXTENSION] = replica
    sessions = sessions or auth.SessionPolicy()
    observe.register(app, data, sessions.idle)  # first: its clock starts before the gate may refuse
    auth.configure(app.server, secret_key, sessions)
    routes.register(app.server, data)
    register_webfont(app.server, WEBFONT_PACKAGE)
    register_plotly_bundle(app.server, PLOTLY_BUNDLE)
    register_date_locale(app.server, DATEFNS_ZH)
    app.server.after_request(_cache_fingerprinted)
    _import_pages()
    app.layout = sys.modules["dashboard.shell"].layout
    headers.register(app)
    # Dash finishes its set-up in the first request, but marks it done before doing it: a fresh gthread worker
    # answering several requests at once (a browser's nine script bundles, or sessions moving over from a
    # worker that died) served some before the bundles were registered (500 "dash is not a registered
    # library") or the callbacks copied in. Done here, before the worker takes any request.
    with app.server.test_request_context("/"):
        app._setup_server()
    paths = [p.get("path_template") or p["path"] for p in dash.page_registry.values()]
    log.info("dashboard ready: pages %s", ", ".join(paths))
    return app


def run(app: dash.Dash, host: str, port: int, *, debug: bool = False) -> None:
    """Flask's threaded server: enough for a demo and a few screens (gunicorn + wsgi.py beyond)."""
    app.run(host=host, port=port, debug=debug, dev_tools_disable_version_check=True, dev_tools_hot_reload=False,
            threaded=True, use_reloader=False)

