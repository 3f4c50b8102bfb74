"""Security headers on every response: a Content-Security-Policy that Dash and the offline map work
under, no framing by other sites, no MIME sniffing, no referrer to other hosts.

Dash runs a few inline scripts of its own (the renderer's start, the clientside callbacks gathered
into one script when the server sets up, before the first request): their hashes, taken once that
script exists, are allowed, nothing else inline. MapLibre builds its workers from ``blob:`` URLs; plotly and Dash
set inline styles. Everything else comes from this server only (it is an intranet application).
"""

from __future__ import annotations

from collections.abc import Sequence

import dash
import flask


def content_security_policy(script_hashes: Sequence[str]) -> str:
    scripts = " ".join(["'self'", *script_hashes])  # Dash's hashes come quoted: 'sha256-…'
    return "; ".join([
        "default-src 'self'",
        f"script-src {scripts}",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "child-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def register(app: dash.Dash) -> None:
    policy: list[str] = []

    @app.server.after_request
    def security_headers(response: flask.Response) -> flask.Response:
        if not policy:  # Dash has set up by the first response, so its inline scripts are final
            policy.append(content_security_policy(app.csp_hashes()))
        response.headers["Content-Security-Policy"] = policy[0]
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        return response
