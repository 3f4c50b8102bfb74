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
    "zone_speed": {"zh": "分区限速", "en": "Zone speed limit"},
    "zone_forbidden": {"zh": "分时禁行", "en": "Banned zone by hours"},
    "driving_time": {"zh": "疲劳驾驶", "en": "Driving time"}, "stopped": {"zh": "违规停车", "en": "Stopped too long"},
}
_OVER: dict[Lang, str] = {"zh": "超限 ≥ {p:g}%", "en": "≥ {p:g} % over"}  # a level from a share over a limit


def _level(lt: dict[str, Any], lang: Lang) -> str:
    """One level as one unbreakable piece: 橙色 II级 ≥ 20, or 橙色 II级 超限 ≥ 50% (a vehicle over its zone's limit)."""
    bound = f"≥ {lt['at_least']:g}" if "at_least" in lt else _OVER[lang].format(p=lt["over_percent"])
    return f"{level_label(lt['level'], lang)} {bound}".replace(" ", _NBSP)


def _bound(lt: dict[str, Any]) -> float:
    return float(lt.get("at_least", lt.get("over_percent", 0)))


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
        if doc.get("levels"):  # a line may break between two levels, never inside one
            base = [level_label(doc["level"], lang).replace(" ", _NBSP)] if "level" in doc else []  # below the levels
            levels = _LIST_SEP[lang].join(base + [_level(lt, lang) for lt in sorted(doc["levels"], key=_bound)])
        else:
            levels = level_label(doc["level"], lang).replace(" ", _NBSP) if "level" in doc else "—"
        rest = _SETTING_SEP[lang].join(f"{k}={_short(v, lang)}" for k, v in doc.items() if k not in _RULE_HEAD)
        rows.append([doc["id"], doc["name"], label(RULE_KIND, doc.get("kind"), lang),
                     category_label(doc["category"], lang), levels, rest])
    return rows
