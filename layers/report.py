"""Problems found in boundary files, and the report that refuses them (中文 by default, English on request).

Every check in ``layers.sources`` and ``layers.validate`` yields :class:`Problem` values;
nothing is raised for bad input, so one run lists everything that is wrong instead of
the first thing. The report names each problem kind, the feature codes, an area where
it matters and a lon/lat to look at, so the person who owns the files can fix them.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from typing import Literal

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")
EXAMPLES_PER_KIND = 12  # enough to see the pattern; the count says how many there are in all

LEVEL_NAMES: dict[str, dict[Lang, str]] = {
    "district": {"zh": "区县", "en": "district"},
    "township": {"zh": "乡镇街道", "en": "township"},
    "grid": {"zh": "网格", "en": "grid"},
}

ROLE_NAMES: dict[str, dict[Lang, str]] = {
    "code": {"zh": "代码", "en": "code"},
    "name": {"zh": "名称", "en": "name"},
    "parent": {"zh": "上级代码", "en": "parent code"},
}

# kind → (title zh, title en, line zh, line en). Lines are str.format templates over
# Problem fields (+ ``area`` formatted in m², ``where`` as "lon, lat", ``role`` the
# field role named by ``code`` for field_missing).
KINDS: dict[str, tuple[str, str, str, str]] = {
    "file_missing": ("文件不存在", "file not found", "{detail}", "{detail}"),
    "file_unreadable": ("无法读取文件", "file cannot be read", "{detail}", "{detail}"),
    "several_layers": ("文件含多个图层，请用 文件::图层 指定其一", "file has several layers: name one as FILE::LAYER",
                       "{detail}", "{detail}"),
    "file_empty": ("文件中没有任何要素", "file has no features", "{detail}", "{detail}"),
    "field_missing": ("找不到字段", "field not found",
                      "缺少{role}字段，请用 --{code}-field 指定；文件中的字段有：{detail}",
                      "no {role} field: name it with --{code}-field; the file has: {detail}"),
    "crs_missing": ("缺少坐标系（如 Shapefile 缺 .prj）",
                    "no coordinate reference system (e.g. a Shapefile without .prj)",
                    "{detail}；若确知坐标系，可用 --assume-crs 指定（如 EPSG:4490）",
                    "{detail}; if you know it, name it with --assume-crs (e.g. EPSG:4490)"),
    "crs_unknown": ("坐标系无法识别或无法转换为 WGS84",
                    "coordinate reference system unknown or not convertible to WGS84",
                    "{detail}", "{detail}"),
    "coords_out_of_range": ("坐标与声明的坐标系不符（超出经纬度范围）",
                            "coordinates do not fit the declared coordinate system (outside lon/lat range)",
                            "{detail}", "{detail}"),
    "geometry_empty": ("要素没有几何", "feature without geometry", "{code}", "{code}"),
    "geometry_type": ("不是面要素（Polygon/MultiPolygon）", "not a polygon (Polygon/MultiPolygon)",
                      "{code}：{detail}", "{code}: {detail}"),
    "invalid_polygon": ("无效多边形（自相交等）", "invalid polygon (self-intersection etc.)",
                        "{code}：{detail}，位置 {where}", "{code}: {detail} at {where}"),
    "code_missing": ("缺少代码", "code missing", "第 {detail} 条要素", "feature #{detail}"),
    "name_missing": ("缺少名称", "name missing", "{code}", "{code}"),
    "duplicate_code": ("代码重复", "duplicate code", "{code} 出现 {detail} 次", "{code} appears {detail} times"),
    "code_format": ("代码长度或格式错误", "wrong code length or format",
                    "{code}：应为 {detail} 位数字", "{code}: must be {detail} digits"),
    "code_prefix": ("代码前缀与上级代码不符", "code does not start with its parent's code",
                    "{code} 的上级为 {other}", "{code} has parent {other}"),
    "parent_unknown": ("上级代码在上级图层中不存在", "parent code not found in the parent layer",
                       "{code} 的上级 {other} 不存在", "{code}: parent {other} does not exist"),
    "overlap": ("多边形相互重叠", "polygons overlap",
                "{code} 与 {other} 重叠 {area}，位置 {where}", "{code} and {other} overlap by {area} at {where}"),
    "gap": ("下级多边形之间有缝隙（未覆盖上级）", "gap between the units inside their parent",
            "{other} 内有 {area} 未被任何下级覆盖，位置 {where}",
            "{area} of {other} covered by none of its units, at {where}"),
    "outside_parent": ("超出上级范围", "outside its parent",
                       "{code} 有 {area} 在上级 {other} 之外，位置 {where}",
                       "{code} has {area} outside its parent {other}, at {where}"),
}


@dataclass(frozen=True, slots=True)
class Problem:
    kind: str
    level: str | None = None
    code: str | None = None
    other: str | None = None  # the second code: overlap partner, parent
    detail: str = ""
    area_m2: float | None = None
    where: tuple[float, float] | None = None  # WGS84 lon/lat to look at

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown problem kind {self.kind!r}")


def resolve_lang(lang: str | None = None) -> Lang:
    """--lang wins, then CITYOPS_LANG, then Chinese."""
    chosen = (lang or os.environ.get("CITYOPS_LANG") or "zh").strip().lower()
    if chosen not in LANGS:
        raise ValueError(f"language must be zh or en, got {chosen!r}")
    return chosen


def level_name(level: str | None, lang: Lang) -> str:
    return LEVEL_NAMES[level][lang] if level in LEVEL_NAMES else ""


def _area(m2: float | None, lang: Lang) -> str:
    if m2 is None:
        return ""
    if m2 >= 1e6:
        return f"{m2 / 1e6:,.2f} km²" if lang == "en" else f"{m2 / 1e6:,.2f} 平方公里"
    return f"{m2:,.0f} m²" if lang == "en" else f"{m2:,.0f} 平方米"


def line(p: Problem, lang: Lang) -> str:
    template = KINDS[p.kind][2 if lang == "zh" else 3]
    where = f"{p.where[0]:.5f}, {p.where[1]:.5f}" if p.where else "?"
    role = ROLE_NAMES[p.code][lang] if p.code in ROLE_NAMES else ""
    text = template.format(code=p.code or "?", other=p.other or "?", detail=p.detail,
                           area=_area(p.area_m2, lang), where=where, role=role)
    prefix = level_name(p.level, lang)
    return f"[{prefix}] {text}" if prefix else text


def render(problems: list[Problem], lang: Lang) -> str:
    """The refusal report: a headline, then each kind with its count and examples."""
    if not problems:
        return "校验通过：未发现问题。" if lang == "zh" else "Validation passed: no problems found."
    counts = Counter(p.kind for p in problems)
    out = [f"拒绝导入：发现 {len(problems)} 个问题，未写入任何数据。" if lang == "zh"
           else f"Import refused: {len(problems)} problem(s) found; nothing was written."]
    for kind in KINDS:  # a fixed order: file problems first, then attributes, then topology
        if kind not in counts:
            continue
        title = KINDS[kind][0 if lang == "zh" else 1]
        out.append(f"■ {title}（{counts[kind]}）" if lang == "zh" else f"■ {title} ({counts[kind]})")
        shown = [p for p in problems if p.kind == kind][:EXAMPLES_PER_KIND]
        out.extend(f"    {line(p, lang)}" for p in shown)
        if counts[kind] > len(shown):
            rest = counts[kind] - len(shown)
            out.append(f"    …… 另有 {rest} 处" if lang == "zh" else f"    … and {rest} more")
    return "\n".join(out)
