"""Plain Flask routes beside the Dash pages: login form, logout, language switch, photos.

The login page is server-rendered HTML rather than a Dash page so that nothing of
the application (layout, callback list) is served before a user is known.
"""

from __future__ import annotations

import secrets

import flask
from werkzeug.wrappers import Response as BaseResponse  # what flask.redirect returns

from alerts.lifecycle import UNIT_ROLES, Role
from dashboard import auth
from dashboard.actions import on_desk_of
from dashboard.data import Data
from i18n.labels import LANGS, as_lang, t
from i18n.timefmt import fmt_time, utcnow
from store import audit, users
from store.audit import AuthEvent

_LOGIN_HTML = """<!DOCTYPE html>
<html lang="{{ 'zh-CN' if lang == 'zh' else 'en' }}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }} · {{ heading }}</title>
<link rel="stylesheet" href="/assets/cityops.css"></head>
<body class="login-body">
<form class="login-card" method="post" action="/login">
  <h1>{{ title }}</h1>
  <h2>{{ heading }}</h2>
  {% if error %}<div class="msg msg-error" role="alert">{{ error }}</div>{% endif %}
  <input type="hidden" name="csrf" value="{{ csrf }}">
  <input type="hidden" name="next" value="{{ next }}">
  <label for="username">{{ l_user }}</label>
  <input id="username" name="username" autocomplete="username" required autofocus value="{{ username }}">
  <label for="password">{{ l_pass }}</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required>
  <button id="login-submit" type="submit" class="btn btn-primary">{{ submit }}</button>
  <a class="lang-link" href="/lang/{{ other }}?next=/login">{{ switch }}</a>
</form>
</body></html>"""


def _render_login(error: str = "", username: str = "", status: int = 200) -> tuple[str, int]:
    lang = auth.current_lang()
    if not isinstance(flask.session.get("csrf"), str):
        flask.session["csrf"] = secrets.token_urlsafe(32)  # login CSRF: the form proves it came from us
    html = flask.render_template_string(
        _LOGIN_HTML, lang=lang, title=t("app.title", lang), heading=t("login.title", lang), error=error,
        csrf=flask.session["csrf"], next=auth.safe_next(flask.request.values.get("next")), username=username,
        l_user=t("login.username", lang), l_pass=t("login.password", lang), submit=t("login.submit", lang),
        other="en" if lang == "zh" else "zh", switch=t("nav.switch_lang", lang))
    return html, status


def _geojson(body: str | None) -> flask.Response:
    """A boundary file as served, or 404 (not the active version, or no such level or township)."""
    if body is None:
        flask.abort(404)
    response = flask.Response(body, mimetype="application/geo+json")
    response.headers["Cache-Control"] = "private, max-age=31536000, immutable"  # a version never changes
    return response


def register(server: flask.Flask, data: Data) -> None:
    @server.get("/login")
    def login_form() -> tuple[str, int]:
        return _render_login()

    @server.post("/login")
    def login_submit() -> BaseResponse | tuple[str, int]:
        lang = auth.current_lang()
        form = flask.request.form
        expected = flask.session.get("csrf")
        if not isinstance(expected, str) or not secrets.compare_digest(form.get("csrf", ""), expected):
            return _render_login(t("login.expired", lang), status=400)
        username = form.get("username", "").strip()[:200]
        now = utcnow()
        with data.pool.connection() as conn:
            outcome = auth.authenticate(conn, username, form.get("password", ""), address=auth.client_address(),
                                        now=now, policy=server.config["CITYOPS_SESSIONS"].lockout)
            # A password an admin set (a new account, a reset) is changed first: such a login lands on /account.
            forced = isinstance(outcome, auth.SessionUser) and users.must_change_password(conn, outcome.username)
        if not isinstance(outcome, auth.SessionUser):
            refusal, until = outcome
            text = t(refusal.value, lang, until=fmt_time(until) if until else "")
            return _render_login(text, username=username, status=429 if until else 401)
        user = outcome
        auth.login_session(user, now)
        target = auth.ACCOUNT_PAGE if forced else auth.safe_next(form.get("next"))
        if target in ("/", "/login") or target.startswith("/login?"):
            target = auth.home_for(user.role)
        return flask.redirect(target)

    @server.get("/logout")
    def logout() -> BaseResponse:
        user = auth.current_user()
        if user is not None:
            with data.pool.connection() as conn:
                audit.record(conn, utcnow(), AuthEvent.LOGOUT, username=user.username, address=auth.client_address())
        auth.end_session()
        response = flask.redirect("/login")
        response.delete_cookie(auth.CSRF_COOKIE, path="/")
        return response

    @server.get("/lang/<code>")
    def switch_lang(code: str) -> BaseResponse:
        if code in LANGS:
            flask.session["lang"] = as_lang(code)
        return flask.redirect(auth.safe_next(flask.request.args.get("next")))

    @server.get("/geo/<int:version>/<level>.geojson")
    def boundaries(version: int, level: str) -> flask.Response:
        # The base map's polygons by URL: the browser fetches them once per boundary version
        # and caches them, instead of receiving ~370 KB inside every big-screen page load.
        base = data.base_map()
        return _geojson(base.geojson.get(level) if base.version == version else None)

    @server.get("/geo/<int:version>/grid/<township>.geojson")
    def grids(version: int, township: str) -> flask.Response:
        # One township's grids, fetched when the big screen drills into it.
        base = data.base_map()
        return _geojson(base.grid_geojson.get(township) if base.version == version else None)

    @server.get("/attachment/<int:attachment_id>")
    def attachment(attachment_id: int) -> flask.Response:
        # Passed the gate, so someone is logged in; now: may *this* user see *this* incident?
        user = auth.current_user()
        found = data.attachment(attachment_id)
        if user is None or found is None:
            flask.abort(404)
        incident_id, photo = found
        if (user.role in UNIT_ROLES and not (
                user.township_code and data.township_involved(incident_id, user.township_code))) or (
                user.role is Role.DISTRICT and not on_desk_of(data.incident(incident_id), user.district_code)) or (
                user.role is Role.GRID and (data.incident(incident_id) or {}).get("grid_code") not in user.grid_codes):
            auth.record_refusal(user)
            flask.abort(404)  # 404, not 403: do not confirm that the photo exists
        response = flask.Response(photo.data, mimetype=photo.content_type)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "private, max-age=3600"
        response.headers["Content-Security-Policy"] = "default-src 'none'"
        return response
