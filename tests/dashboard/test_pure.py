"""Dashboard pieces that need no database: texts, times, input checks, figures, GeoJSON."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from enum import Enum
from pathlib import Path

import pandas as pd
import pytest
import shapely
from shapely.geometry import box

from alerts.lifecycle import Action, Refusal, Role
from alerts.status import Status
from dashboard import figures
from dashboard.actions import MAX_PHOTO_BYTES, InvalidInput, parse_evacuated, parse_photo
from dashboard.map import basemap
from dashboard.map.model import CITY
from i18n import labels as i18n
from i18n import timefmt

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32


# -- texts --

@pytest.mark.parametrize("table, enum", [(i18n.STATUS, Status), (i18n.ACTION, Action), (i18n.ROLE, Role),
                                         (i18n.REFUSAL, Refusal)])
def test_every_enum_member_has_both_languages(table: dict, enum: type[Enum]) -> None:
    for member in enum:
        assert set(table[member]) == {"zh", "en"}, member
        assert all(table[member].values()), member


def test_messages_have_both_languages() -> None:
    for key, texts in i18n.MESSAGES.items():
        assert set(texts) == {"zh", "en"} and all(texts.values()), key


def test_chinese_labels_the_command_center_uses() -> None:
    assert [i18n.status_label(s.value, "zh") for s in Status] == ["待分拨", "已分拨", "已签收", "处置中", "缓办中",
                                                                  "已反馈", "已结案", "已合并",
                                                                  "待受理", "不予立案", "待现场核查"]
    assert [i18n.level_label(n, "zh") for n in (1, 2, 3, 4)] == ["红色 I级", "橙色 II级", "黄色 III级", "蓝色 IV级"]
    assert i18n.LEVEL_COLOR == {1: "#d7191c", 2: "#fd8d3c", 3: "#fee08b", 4: "#2b83ba"}
    assert i18n.refusal_message(Refusal.WRONG_STATE, Action.SIGN, "zh") == "该事件已签收或状态已变化，请刷新"
    assert i18n.refusal_message(Refusal.NOTE_REQUIRED, Action.RETURN, "zh") == "请填写退单原因"
    assert i18n.refusal_message(Refusal.NOT_YOUR_TOWNSHIP, Action.SIGN, "en").startswith("This incident")


def test_unknown_values_are_shown_not_crashed_on() -> None:
    assert i18n.status_label("archived", "zh") == "archived"
    assert i18n.status_label(None, "zh") == "—"
    assert i18n.as_lang("fr") == "zh" and i18n.as_lang("en") == "en"
    with pytest.raises(KeyError):
        i18n.t("no.such.key", "zh")


# -- times: Asia/Shanghai whatever the server's zone --

def test_times_are_shown_in_shanghai() -> None:
    utc = datetime(2026, 1, 1, 16, 30, tzinfo=UTC)
    assert timefmt.fmt_dt(utc) == "2026-01-02 00:30"
    assert timefmt.fmt_dt(utc, seconds=True) == "2026-01-02 00:30:00"
    assert timefmt.fmt_time(utc.replace(tzinfo=None)) == "00:30:00"  # naive means UTC
    assert timefmt.start_of_local_day(utc).isoformat() == "2026-01-02T00:00:00+08:00"
    assert timefmt.fmt_recent(utc, utc + timedelta(hours=1)) == "00:30:00"
    assert timefmt.fmt_recent(utc - timedelta(hours=1), utc) == "01-01 23:30"  # yesterday in Shanghai


def test_remaining_time() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert timefmt.remaining(now + timedelta(hours=1, minutes=5), now, "zh") == ("剩余 1小时5分", False)
    assert timefmt.remaining(now - timedelta(minutes=10), now, "zh") == ("已超时 10分", True)
    assert timefmt.remaining(now + timedelta(days=2, hours=3), now, "en") == ("2 d 3 h left", False)
    assert timefmt.remaining(None, now, "zh") == ("—", False)


# -- form input checks --

@pytest.mark.parametrize("raw, expected", [("0", 0), (" 12 ", 12), ("１２", 12), (7, 7)])
def test_people_evacuated_accepts_whole_numbers(raw: object, expected: int) -> None:
    assert parse_evacuated(raw) == expected


@pytest.mark.parametrize("raw", ["-1", "1.5", "abc", "", None, True, -3, "1e3"])
def test_people_evacuated_refuses_the_rest_in_chinese(raw: object) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_evacuated(raw)
    assert i18n.t(err.value.key, "zh") == "转移人数须为不小于 0 的整数"


def test_people_evacuated_refuses_a_typo_sized_number() -> None:
    with pytest.raises(InvalidInput) as err:
        parse_evacuated("99999999999")
    assert err.value.key == "err.evacuated_big"


def _data_url(raw: bytes, claimed: str = "image/png") -> str:
    return f"data:{claimed};base64,{base64.b64encode(raw).decode()}"


def test_photo_kind_comes_from_its_bytes_not_its_claim() -> None:
    photo = parse_photo(_data_url(JPEG, claimed="image/png"), "C:\\Users\\x\\现场.jpg")
    assert photo is not None
    assert (photo.content_type, photo.filename, photo.data) == ("image/jpeg", "现场.jpg", JPEG)
    assert parse_photo(None, None) is None


@pytest.mark.parametrize("contents, key", [
    (_data_url(b"<svg onload=alert(1)>", "image/svg+xml"), "err.photo_type"),
    ("data:image/png;base64,***not base64***", "err.photo_type"),
    ("not a data url", "err.photo_type"),
    (_data_url(PNG + b"\x00" * MAX_PHOTO_BYTES), "err.photo_size"),
])
def test_bad_photos_are_refused(contents: str, key: str) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_photo(contents, "x.png")
    assert err.value.key == key


# -- GeoJSON for the base map --

def test_coverage_keeps_shared_borders_and_rounds() -> None:
    left, right = box(113.0, 25.0, 113.1234567, 25.1), box(113.1234567, 25.0, 113.3, 25.1)
    regions = [basemap.Region(code, code, None, False, shapely.to_wkb(g), 0.0, 0.0)
               for code, g in (("431002001", left), ("431002002", right))]
    fc = basemap.features(regions, "district")
    assert [f["id"] for f in fc["features"]] == ["431002001", "431002002"]
    coords = [c for f in fc["features"] for c in f["geometry"]["coordinates"][0]]
    assert all(round(x, 5) == x and round(y, 5) == y for x, y in coords)
    back = [shapely.geometry.shape(f["geometry"]) for f in fc["features"]]
    assert back[0].intersection(back[1]).area == 0  # no overlap
    assert back[0].union(back[1]).area == pytest.approx(left.union(right).area, rel=1e-4)  # no gap
    assert basemap.total_bounds(regions) == pytest.approx((113.0, 25.0, 113.3, 25.1))


def test_the_base_map_indexes_one_version_and_serves_each_townships_grids_apart() -> None:
    def region(code: str, parent: str | None, g: shapely.Geometry) -> basemap.Region:
        return basemap.Region(code, f"名{code}", parent, len(code) > 6, shapely.to_wkb(g), 113.05, 25.05)

    district = region("431002", None, box(113.0, 25.0, 113.2, 25.1))
    towns = [region("431002001", "431002", box(113.0, 25.0, 113.1, 25.1)),
             region("431002002", "431002", box(113.1, 25.0, 113.2, 25.1))]
    grids = [region("431002001001", "431002001", box(113.0, 25.0, 113.1, 25.1))]
    base = basemap.build(7, [district], towns, grids)
    assert base.children == {"": ["431002"], "431002": ["431002001", "431002002"], "431002001": ["431002001001"]}
    assert list(base.grid_geojson) == ["431002001"]  # a township without grids has no file
    assert [f["id"] for f in json.loads(base.grid_geojson["431002001"])["features"]] == ["431002001001"]
    assert json.loads(base.geojson["township"])["features"][1]["properties"] == {
        "code": "431002002", "name": "名431002002", "illustrative": True}
    assert base.illustrative and base.bounds == pytest.approx((113.0, 25.0, 113.2, 25.1))
    assert base.urls.grid_of("431002001") == "/geo/7/grid/431002001.geojson"
    assert set(base.label_of) == {"431002", "431002001", "431002002"}  # names are printed down to townships
    assert basemap.EMPTY.children_of(CITY) == [] and basemap.EMPTY.bounds_of(CITY) is None  # no version loaded


# -- figures --

def test_the_style_file_works_offline() -> None:
    style = json.loads((Path(figures.__file__).parent / "assets" / "map-dark.json").read_text())
    assert style["sources"], "an empty sources object breaks MapLibre updates"
    assert style["glyphs"].startswith("/assets/")
    assert "http" not in json.dumps(style)


def test_timeline_spans_come_from_the_log() -> None:
    t0 = datetime(2026, 1, 1, 0, 0, tzinfo=UTC)
    log = pd.DataFrame({"at": [t0, t0, t0 + timedelta(minutes=5), t0 + timedelta(minutes=50)],
                        "to_status": ["new", "dispatched", "signed", "resolved"]})
    now = t0 + timedelta(hours=1)
    spans = figures.state_spans(log, now)
    assert list(spans["status"]) == ["new", "dispatched", "signed", "resolved"]
    assert spans["end"].iloc[0] - spans["start"].iloc[0] == pd.Timedelta(seconds=1)  # instant states stay visible
    assert spans["end"].iloc[-1] == pd.Timestamp(now)  # still open: runs until now
    fig = figures.timeline(log, now, "zh")
    assert list(fig.data[0].y) == ["待分拨", "已分拨", "已签收", "已反馈"]
    assert fig.data[0].base[2] == "2026-01-01 08:05:00"  # Shanghai wall clock on the axis


def test_timeline_of_a_closed_incident_ends_at_closing() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    log = pd.DataFrame({"at": [t0, t0 + timedelta(hours=2)], "to_status": ["new", "closed"]})
    spans = figures.state_spans(log, t0 + timedelta(days=3))
    assert spans["end"].iloc[-1] - spans["start"].iloc[-1] == pd.Timedelta(seconds=1)
