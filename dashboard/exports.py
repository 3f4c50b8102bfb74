"""What the Excel files contain: the same rows as the page, with words instead of codes (the leader's lists;
one incident's facts and log, its reporter as the page shows it to whoever exports)."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from dashboard.excel import Sheet, workbook
from dashboard.filters import Filters
from dashboard.widgets import format_details
from i18n.labels import Lang, action_label, category_label, level_label, role_label, status_label, t
from i18n.numbers import known
from i18n.timefmt import fmt_dt, local


def describe(f: Filters, names: dict[str, str], lang: Lang) -> str:
    """The filters in words, for the sheet's second row: a printed list must say what it lists."""
    everything = t("common.all", lang)
    sep = "；" if lang == "zh" else "; "
    colon = "：" if lang == "zh" else ": "
    until = " 至 " if lang == "zh" else " to "
    parts = [
        (t("export.filters", lang), f"{f.start.isoformat()}{until}{f.end.isoformat()}"),
        (t("filter.district", lang), names.get(f.district, f.district) if f.district else everything),
        (t("filter.township", lang), names.get(f.township, f.township) if f.township else everything),
        (t("filter.category", lang), category_label(f.category, lang) if f.category else everything),
        (t("filter.level", lang), level_label(f.level, lang) if f.level else everything),
    ]
    if f.search:
        parts.append((t("filter.search", lang), f.search))
    return sep.join(f"{k}{colon}{v}" for k, v in parts)


def _stamp(now: datetime, lang: Lang) -> str:
    return f"{t('export.generated', lang)}{'：' if lang == 'zh' else ': '}{fmt_dt(now, seconds=True)}"


def _filename(stem: str, now: datetime) -> str:
    return f"{stem}_{local(now).strftime('%Y%m%d_%H%M')}.xlsx"


def incidents(rows: pd.DataFrame, f: Filters, names: dict[str, str], now: datetime, lang: Lang) -> tuple[bytes, str]:
    columns = [(t("col.id", lang), 9), (t("col.title", lang), 36), (t("col.category", lang), 12),
               (t("col.level", lang), 12), (t("col.status", lang), 12), (t("col.district", lang), 12),
               (t("col.township", lang), 16), (t("col.created", lang), 18), (t("col.closed_at", lang), 18),
               (t("col.rework", lang), 10), (t("col.overdue", lang), 8)]
    yes, no = t("common.yes", lang), t("common.no", lang)
    body = [[int(r.id), r.title, category_label(r.category, lang), level_label(int(r.level), lang),
             status_label(r.status, lang), names.get(r.district_code or "", r.district_code or ""),
             names.get(r.township_code or "", r.township_code or ""), r.created_at, r.closed_at,
             int(r.rework_count), yes if r.overdue else no] for r in rows.itertuples()]
    sheet = Sheet(t("leader.sheet_list", lang), t("leader.list", lang), [describe(f, names, lang), _stamp(now, lang)],
                  columns, body)
    return workbook([sheet]), _filename(t("leader.sheet_list", lang), now)


def ranking(rows: pd.DataFrame, f: Filters, names: dict[str, str], now: datetime, lang: Lang) -> tuple[bytes, str]:
    columns = [(t("col.rank", lang), 7), (t("col.township", lang), 16), (t("col.district", lang), 12),
               (t("assess.col.score", lang), 10), (t("assess.col.band", lang), 8), (t("col.dispatched", lang), 10),
               (t("col.signed_on_time", lang), 10), (t("assess.col.sign_rate", lang) + " %", 12),
               (t("assess.col.due", lang), 10), (t("assess.col.on_time_rate", lang) + " %", 12),
               (t("col.closed", lang), 10), (t("assess.col.close_rate", lang) + " %", 12),
               (t("assess.col.rework_rate", lang) + " %", 12), (t("col.open", lang), 10), (t("col.overdue", lang), 10)]
    body = [[None if known(r.rank) is None else int(r.rank), r.name,
             names.get(r.district_code or "", r.district_code or ""), known(r.score),
             t(f"assess.band.{r.band}", lang) if isinstance(r.band, str) else None, int(r.dispatched),
             int(r.signed_on_time), known(r.sign_rate), int(r.due), known(r.on_time_rate), int(r.closed),
             known(r.close_rate), known(r.rework_rate), int(r.open), int(r.overdue)] for r in rows.itertuples()]
    sheet = Sheet(t("leader.sheet_ranking", lang), t("leader.ranking", lang),
                  [describe(f, names, lang), t("leader.ranking_note", lang), _stamp(now, lang)], columns, body)
    return workbook([sheet]), _filename(t("leader.sheet_ranking", lang), now)


def incident(incident_id: int, title: str, facts: list[tuple[str, str]], log: pd.DataFrame, names: dict[str, str],
             now: datetime, lang: Lang) -> tuple[bytes, str]:
    """One incident: its facts as (label, value) rows, then every row of its log."""
    heading, notes = f"#{incident_id} {title}", [_stamp(now, lang)]
    about = Sheet(t("incident.sheet_facts", lang), heading, notes,
                  [(t("export.field", lang), 14), (t("export.value", lang), 60)], facts)
    columns = [(t("col.at", lang), 18), (t("col.actor", lang), 16), (t("col.role", lang), 14),
               (t("col.action", lang), 12), (t("col.transition", lang), 18), (t("col.note", lang), 40),
               (t("col.details", lang), 40)]
    body = [[r.at, r.actor, role_label(r.role, lang), action_label(r.action, lang),
             f"{status_label(r.from_status if isinstance(r.from_status, str) else None, lang)}"
             f" → {status_label(r.to_status, lang)}", r.note, format_details(r.details, names, lang)]
            for r in log.itertuples()]
    history = Sheet(t("incident.log", lang), heading, notes, columns, body)
    return workbook([about, history]), _filename(f"{t('incident.title', lang)}{incident_id}", now)
