"""Alert rules of every kind as table rows for the admin page (pure: rules in, strings out)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel

from i18n.labels import Lang, category_label, level_label
from i18n.texts import label

_RULE_HEAD = ("id", "name", "kind", "category", "levels", "level")
_NBSP = "\u00a0"  # keeps "橙色 II级 ≥ 20" on one line
_LIST_SEP: dict[Lang, str] = {"zh": "，", "en": ", "}
_SETTING_SEP: dict[Lang, str] = {"zh": "；", "en": "; "}
RULE_KIND: dict[str, dict[str, str]] = {
    "threshold": {"zh": "阈值", "en": "Threshold"}, "rate": {"zh": "变化率", "en": "Rate of change"},
    "no_data": {"zh": "断报", "en": "No data"}, "compound": {"zh": "复合条件", "en": "Compound"},
    "geofence": {"zh": "电子围栏", "en": "Geofence"}, "event_count": {"zh": "高频诉求", "en": "Repeated reports"},
}


def _short(value: Any, lang: Lang) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        return ("、" if lang == "zh" else ", ").join(_short(v, lang) for v in value) if value else "—"
    if isinstance(value, dict):
        return "(" + ", ".join(f"{k}={_short(v, lang)}" for k, v in value.items()) + ")"
    return str(value)


def rule_rows(rules: Iterable[BaseModel], lang: Lang) -> list[list[str]]:
    """One row per rule of any kind: who it is, its levels, and the rest of its settings as ``key=value``.

    Generic on purpose: a new rule kind in alerts/rules.py shows up here without a change.
    """
    rows = []
    for rule in rules:
        doc = rule.model_dump(mode="json")
        if "levels" in doc:  # a line may break between two levels, never inside one
            levels = _LIST_SEP[lang].join(f"{level_label(lt['level'], lang)} ≥ {lt['at_least']:g}".replace(" ", _NBSP)
                                          for lt in sorted(doc["levels"], key=lambda lt: lt["at_least"]))
        else:
            levels = level_label(doc["level"], lang).replace(" ", _NBSP) if "level" in doc else "—"
        rest = _SETTING_SEP[lang].join(f"{k}={_short(v, lang)}" for k, v in doc.items() if k not in _RULE_HEAD)
        rows.append([doc["id"], doc["name"], label(RULE_KIND, doc.get("kind"), lang),
                     category_label(doc["category"], lang), levels, rest])
    return rows
