"""The leader page's list of open rectifications (七张问题清单): each recurring problem not yet accepted, with
its owner unit and deadline, the overdue marked; a district desk's leader page shows its district's only."""

from __future__ import annotations

from dash import html

from alerts.lifecycle import Role
from dashboard import auth
from dashboard.context import get_data
from dashboard.pages.rectification import load
from dashboard.pages.rectification.views import problem_table
from i18n.labels import Lang, t
from i18n.timefmt import utcnow


def panel(lang: Lang) -> html.Section:
    """未验收整改, read for the session's user (inside the page's request)."""
    user = auth.current_user()
    district = user if user is not None and user.role is Role.DISTRICT else None
    listing = load.listing(get_data(), district, open_only=True)
    return html.Section([html.H2(t("rect.leader_title", lang)),
                         problem_table(listing, utcnow(), lang, "ld-rectifications")],
                        className="card panel", id="ld-rectification-panel")
