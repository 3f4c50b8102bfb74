"""Reading and validating a city's own boundary files, written by the tests in every format.

A tiny city (2 districts → 4 townships → 8 grids, exact shared borders) is written as
Shapefile (plain, zipped, in a folder), GeoPackage and GeoJSON (WGS84 and a projected
CGCS2000 Gauss-Krüger zone), and read back; then broken variants of it, one per
refusal, must each be refused with that problem named in the report (中文 and English).
Loading into PostgreSQL is in tests/layers/test_import_db.py.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely import box

from layers.coords import wgs84_to_gcj02
from layers.geo import LEVELS, Level, tag_points
from layers.importer import ImportOptions, check_files
from layers.report import KINDS, Problem, render, resolve_lang
from layers.sources import FieldMap

Files = dict[Level, str]

# Two districts side by side; each split west/east into townships, each township split
# south/north into grids. The same float literals on both sides of every shared border.
XS = [113.00, 113.05, 113.10, 113.15, 113.20]
Y0, YM, Y1 = 25.70, 25.75, 25.80


def city() -> dict[Level, gpd.GeoDataFrame]:
    rows: dict[Level, list[dict[str, object]]] = {lv: [] for lv in LEVELS}
    for d, dcode in enumerate(("431002", "431003")):
        rows["district"].append({"code": dcode, "name": f"区{d}", "parent_code": "431000",
                                 "geometry": box(XS[2 * d], Y0, XS[2 * d + 2], Y1)})
        for t in range(2):
            tcode = f"{dcode}{t + 1:03d}"
            x0, x1 = XS[2 * d + t], XS[2 * d + t + 1]
            rows["township"].append({"code": tcode, "name": f"镇{d}{t}", "parent_code": dcode,
                                     "geometry": box(x0, Y0, x1, Y1)})
            for g, (y0, y1) in enumerate(((Y0, YM), (YM, Y1))):
                rows["grid"].append({"code": f"{tcode}{g + 1:03d}", "name": f"网格{d}{t}{g}", "parent_code": tcode,
                                     "geometry": box(x0, y0, x1, y1)})
    return {lv: gpd.GeoDataFrame(rows[lv], geometry="geometry", crs="EPSG:4326") for lv in LEVELS}


def write(frames: dict[Level, gpd.GeoDataFrame], folder: Path, fmt: str = "geojson") -> Files:
    """Each level to its own file in ``fmt``; returns the file arguments for check_files."""
    folder.mkdir(parents=True, exist_ok=True)
    out: Files = {}
    for level, frame in frames.items():
        stem = folder / f"{level}s"
        if fmt in ("shp", "shp-folder", "zip") and "parent_code" in frame.columns:
            frame = frame.rename(columns={"parent_code": "parent"})  # DBF names stop at 10 characters
        if fmt == "geojson":
            frame.to_file(f"{stem}.geojson", driver="GeoJSON")
            out[level] = f"{stem}.geojson"
        elif fmt == "geojson-4547":  # CGCS2000 / 3-degree Gauss-Kruger CM 114E
            # Densified first: a border straight in lon/lat is a curve on the plane, and a file
            # drawn on the plane would carry it as a polyline.
            dense = frame.set_geometry(shapely.segmentize(frame.geometry.values, 0.0005))
            dense.to_crs("EPSG:4547").to_file(f"{stem}.geojson", driver="GeoJSON")
            out[level] = f"{stem}.geojson"
        elif fmt == "shp":
            frame.to_file(f"{stem}.shp", encoding="UTF-8")
            out[level] = f"{stem}.shp"
        elif fmt == "shp-folder":
            (folder / level).mkdir()
            frame.to_file(folder / level / "boundary.shp", encoding="UTF-8")
            out[level] = str(folder / level)
        elif fmt == "zip":  # a zipped Shapefile, its parts in a sub-folder as Windows zips them
            tmp = folder / f"_{level}"
            tmp.mkdir()
            frame.to_file(tmp / f"{level}.shp", encoding="UTF-8")
            with zipfile.ZipFile(f"{stem}.zip", "w") as zf:
                for part in tmp.iterdir():
                    zf.write(part, f"{level}/{part.name}")
            out[level] = f"{stem}.zip"
        elif fmt == "gpkg":  # one GeoPackage holding all levels, a layer each
            frame.to_file(folder / "city.gpkg", layer=f"{level}s")
            out[level] = f"{folder / 'city.gpkg'}::{level}s"
        else:
            raise ValueError(fmt)
    return out


def write_raw_geojson(path: Path, features: list[tuple[dict[str, object], shapely.Geometry | None]],
                      crs_name: str | None = None) -> str:
    """Hand-written GeoJSON: lets a test put in what GDAL would not write (null geometry, a bad crs)."""
    doc: dict[str, object] = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": props,
         "geometry": None if geom is None else json.loads(shapely.to_geojson(geom))}
        for props, geom in features]}
    if crs_name:
        doc["crs"] = {"type": "name", "properties": {"name": crs_name}}
    path.write_text(json.dumps(doc, ensure_ascii=False), "utf-8")
    return str(path)


def features_of(frame: gpd.GeoDataFrame) -> list[tuple[dict[str, object], shapely.Geometry | None]]:
    return [({k: v for k, v in row.items() if k != "geometry"}, row["geometry"]) for row in frame.to_dict("records")]


def kinds(problems: list[Problem]) -> set[str]:
    return {p.kind for p in problems}


# -- reading every format ------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["geojson", "geojson-4547", "shp", "shp-folder", "zip", "gpkg"])
def test_a_clean_city_reads_the_same_in_every_format(tmp_path: Path, fmt: str) -> None:
    original = city()
    result = check_files(write(original, tmp_path, fmt))
    assert result.problems == [], render(result.problems, "en")
    assert result.ok and result.layers is not None
    assert result.counts == {"district": 2, "township": 4, "grid": 8}
    for level in LEVELS:
        got = result.layers.level(level)
        want = original[level].sort_values("code").reset_index(drop=True)
        assert got["code"].tolist() == want["code"].tolist()
        assert got["name"].tolist() == want["name"].tolist()  # Chinese names survive every format
        assert got["parent_code"].tolist() == want["parent_code"].tolist()
        g, w = np.asarray(got.geometry.values), np.asarray(want.geometry.values)
        if fmt == "geojson-4547":  # reprojected twice and densified: the same shape within 1 cm
            assert (shapely.hausdorff_distance(g, w) < 1e-7).all()
        else:  # the same vertices (a Shapefile may turn rings the other way round)
            assert shapely.equals_exact(shapely.normalize(g), shapely.normalize(w), 0.0).all()
        assert not got["illustrative"].any()
    if fmt == "geojson-4547":
        assert any("EPSG:4547 → EPSG:4326" in n for n in result.notes)
    tags = tag_points(np.array([113.02, 113.17, 113.3]), np.array([25.77, 25.72, 25.75]), result.layers)
    assert tags["grid_code"].tolist() == ["431002001002", "431003002001", None]


def test_fields_are_mapped_per_level_and_codes_normalised(tmp_path: Path) -> None:
    frames = city()
    renamed: dict[Level, gpd.GeoDataFrame] = {}
    for level, frame in frames.items():
        f = frame.copy()
        if level == "grid":
            f = f.rename(columns={"code": "WGBM", "name": "WGMC", "parent_code": "SSXZ"})
            f["WGBM"] = f["WGBM"].astype("int64")  # a numeric column: 431002001001 → "431002001001"
        else:
            f = f.rename(columns={"code": "XZQDM", "name": "XZQMC"}).drop(columns="parent_code")
        renamed[level] = f
    files = write(renamed, tmp_path, "shp")
    # District and township columns are common names (detected); the grid's are named here.
    options = ImportOptions(fields={"grid": FieldMap(code="WGBM", name="WGMC", parent="SSXZ")})
    result = check_files(files, options)
    assert result.ok, render(result.problems, "en")
    assert result.layers is not None
    assert result.layers.grids["code"].tolist() == sorted(frames["grid"]["code"])
    # No parent column for townships: the parent is taken from the code prefix.
    assert result.layers.townships["parent_code"].tolist() == ["431002", "431002", "431003", "431003"]
    assert result.layers.districts["parent_code"].isna().all()


def test_gbk_shapefile_without_cpg_needs_its_encoding(tmp_path: Path) -> None:
    frames = city()
    files = write(frames, tmp_path / "a", "shp")
    frames["township"].rename(columns={"parent_code": "parent"}).to_file(tmp_path / "gbk.shp", encoding="GBK")
    (tmp_path / "gbk.cpg").unlink()  # what many Chinese GIS exports look like
    files["township"] = str(tmp_path / "gbk.shp")
    result = check_files(files, ImportOptions(encoding="GBK"))
    assert result.ok and result.layers is not None
    assert result.layers.townships["name"].tolist() == ["镇00", "镇01", "镇10", "镇11"]


def test_gcj02_files_are_converted_to_wgs84(tmp_path: Path) -> None:
    frames = city()

    def to_gcj(c: np.ndarray) -> np.ndarray:
        return np.column_stack(wgs84_to_gcj02(c[:, 0], c[:, 1]))

    # As an Amap export would be: densely drawn in GCJ-02 (the offset bends long straight edges).
    gcj = {lv: f.set_geometry(shapely.transform(shapely.segmentize(f.geometry.values, 0.0005), to_gcj))
           for lv, f in frames.items()}
    result = check_files(write(gcj, tmp_path, "geojson"), ImportOptions(coords="gcj02"))
    assert result.ok, render(result.problems, "en")
    assert result.layers is not None
    back = np.asarray(result.layers.districts.geometry.values)
    want = np.asarray(frames["district"].geometry.values)
    assert (shapely.hausdorff_distance(back, want) < 1e-8).all()  # ~1 mm: back where they were
    # Read as if it were WGS84, the same file sits ~550 m off.
    as_is = check_files(write(gcj, tmp_path / "b", "geojson"))
    assert as_is.layers is not None
    assert (shapely.hausdorff_distance(np.asarray(as_is.layers.districts.geometry.values), want) > 0.004).all()


def test_shapefile_without_prj_loads_with_an_assumed_crs(tmp_path: Path) -> None:
    files = write(city(), tmp_path, "shp")
    Path(files["district"]).with_suffix(".prj").unlink()
    assert kinds(check_files(files).problems) == {"crs_missing"}
    result = check_files(files, ImportOptions(assume_crs="EPSG:4490"))  # CGCS2000 geographic
    assert result.ok, render(result.problems, "en")


def test_a_sliver_below_the_tolerance_is_accepted(tmp_path: Path) -> None:
    frames = city()
    g = frames["grid"]
    i = g.index[g["code"] == "431002001001"][0]
    g.loc[i, "geometry"] = box(XS[0], Y0, XS[1], YM + 1e-7)  # overlaps its neighbour by 1.1 cm × 5 km ≈ 56 m²
    files = write(frames, tmp_path)
    assert check_files(files).ok  # within the default 100 m²
    strict = check_files(files, ImportOptions(tolerance_m2=10))
    assert kinds(strict.problems) == {"overlap"}


# -- every refusal, each in a real file ----------------------------------------------------


def _replace(level: Level, which: str, **changes: object) -> Callable[[dict[Level, gpd.GeoDataFrame]], None]:
    def edit(frames: dict[Level, gpd.GeoDataFrame]) -> None:
        f = frames[level]
        i = f.index[f["code"] == which][0]
        for column, value in changes.items():
            f.at[i, column] = value

    return edit


BOWTIE = shapely.Polygon([(XS[0], Y0), (XS[1], Y1), (XS[1], Y0), (XS[0], Y1)])

# name → (edit of the clean city, expected kind, a text the report must show)
BROKEN_CITIES: dict[str, tuple[Callable[[dict[Level, gpd.GeoDataFrame]], None], str, str]] = {
    "invalid polygon": (_replace("township", "431002001", geometry=BOWTIE), "invalid_polygon", "431002001"),
    "overlap": (_replace("grid", "431002001001", geometry=box(XS[0], Y0, XS[1], YM + 0.01)),
                "overlap", "431002001002"),
    "gap between townships": (_replace("township", "431002002", geometry=box(XS[1] + 0.01, Y0, XS[2], Y1)),
                              "gap", "431002"),
    "township outside its district": (_replace("township", "431003002", geometry=box(XS[3], Y0, XS[4], Y1 + 0.01)),
                                      "outside_parent", "431003002"),
    "duplicate code": (_replace("grid", "431003002002", code="431003002001"), "duplicate_code", "431003002001"),
    "wrong code length": (_replace("township", "431002001", code="43100201"), "code_format", "43100201"),
    "wrong code prefix": (_replace("grid", "431003001002", code="431003001009", parent_code="431002001"),
                          "code_prefix", "431003001009"),
    "unknown parent": (_replace("township", "431003002", code="431009002", parent_code="431009"),
                       "parent_unknown", "431009"),
    "missing name": (_replace("district", "431003", name=None), "name_missing", "431003"),
    "missing code": (_replace("grid", "431002002001", code=None), "code_missing", "#"),
}


@pytest.mark.parametrize("case", list(BROKEN_CITIES))
@pytest.mark.parametrize("fmt", ["geojson", "gpkg"])
def test_each_broken_city_is_refused_naming_the_problem(tmp_path: Path, case: str, fmt: str) -> None:
    edit, kind, text = BROKEN_CITIES[case]
    frames = city()
    edit(frames)
    result = check_files(write(frames, tmp_path, fmt))
    assert not result.ok and result.layers is None
    assert kind in kinds(result.problems)
    zh, en = render(result.problems, "zh"), render(result.problems, "en")
    assert zh.startswith("拒绝导入") and KINDS[kind][0] in zh
    assert en.startswith("Import refused") and KINDS[kind][1] in en
    if text != "#":
        assert text in zh and text in en
    located = [p for p in result.problems if p.kind == kind and p.kind in ("overlap", "gap", "outside_parent")]
    for p in located:  # area problems say where to look, and how big
        assert p.where is not None and p.area_m2 is not None and p.area_m2 > 100
        assert 112.9 < p.where[0] < 113.3 and 25.6 < p.where[1] < 25.9


def test_sizes_and_places_in_the_report_are_right(tmp_path: Path) -> None:
    frames = city()
    BROKEN_CITIES["gap between townships"][0](frames)
    result = check_files(write(frames, tmp_path))
    gap = next(p for p in result.problems if p.kind == "gap")
    # 0.01° of longitude × 0.1° of latitude at 25.75° N: ~1,003 m × ~11,070 m.
    assert gap.area_m2 == pytest.approx(1003.5 * 11070, rel=0.01)
    assert gap.where is not None and XS[1] < gap.where[0] < XS[1] + 0.01
    assert "11.1" in render(result.problems, "zh") and "平方公里" in render(result.problems, "zh")


def test_crs_missing_shapefile_without_prj(tmp_path: Path) -> None:
    files = write(city(), tmp_path, "shp")
    Path(files["township"]).with_suffix(".prj").unlink()
    result = check_files(files)
    assert kinds(result.problems) == {"crs_missing"}
    assert "缺少坐标系" in render(result.problems, "zh") and "--assume-crs" in render(result.problems, "zh")
    assert "no coordinate reference system" in render(result.problems, "en")


@pytest.mark.parametrize("prj", ["GARBAGE NOT A CRS", 'LOCAL_CS["Unknown",UNIT["metre",1]]'])
def test_crs_unknown_in_a_shapefile(tmp_path: Path, prj: str) -> None:
    files = write(city(), tmp_path, "zip" if prj.startswith("LOCAL") else "shp")
    if prj.startswith("LOCAL"):  # inside the zip: rewrite it with the bad .prj
        zpath = Path(files["grid"])
        with zipfile.ZipFile(zpath) as zf:
            parts = {n: zf.read(n) for n in zf.namelist()}
        parts = {n: (prj.encode() if n.endswith(".prj") else b) for n, b in parts.items()}
        with zipfile.ZipFile(zpath, "w") as zf:
            for n, b in parts.items():
                zf.writestr(n, b)
    else:
        Path(files["grid"]).with_suffix(".prj").write_text(prj)
    result = check_files(files)
    assert kinds(result.problems) == {"crs_unknown"}
    assert "坐标系无法识别" in render(result.problems, "zh")


def test_crs_unknown_in_a_geojson_crs_member(tmp_path: Path) -> None:
    frames = city()
    files = write(frames, tmp_path)
    files["district"] = write_raw_geojson(tmp_path / "d.geojson", features_of(frames["district"]),
                                          crs_name="urn:ogc:def:crs:EPSG::999999")
    result = check_files(files)
    # GDAL alone would have taken these coordinates as WGS84 without a word.
    assert kinds(result.problems) == {"crs_unknown"}
    assert "999999" in render(result.problems, "en")


def test_projected_coordinates_declared_as_wgs84_are_refused(tmp_path: Path) -> None:
    frames = city()
    files = write(frames, tmp_path)
    projected = frames["township"].to_crs("EPSG:4547")
    files["township"] = write_raw_geojson(tmp_path / "t.geojson", features_of(projected))  # no crs: means WGS84
    result = check_files(files)
    assert kinds(result.problems) == {"coords_out_of_range"}
    assert "坐标与声明的坐标系不符" in render(result.problems, "zh")


@pytest.mark.parametrize("fmt", ["geojson", "shp", "gpkg"])
def test_empty_files_are_refused(tmp_path: Path, fmt: str) -> None:
    frames = city()
    frames["grid"] = frames["grid"].iloc[:0]
    result = check_files(write(frames, tmp_path, fmt))
    assert kinds(result.problems) == {"file_empty"}
    assert "文件中没有任何要素" in render(result.problems, "zh")
    assert "file has no features" in render(result.problems, "en")


def test_file_level_refusals(tmp_path: Path) -> None:
    frames = city()
    files = write(frames, tmp_path)
    (tmp_path / "broken.geojson").write_text('{"type": "FeatureCollection", "features": [', "utf-8")
    frames["district"].to_file(tmp_path / "two.gpkg", layer="a")
    frames["district"].to_file(tmp_path / "two.gpkg", layer="b")
    (tmp_path / "empty.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)  # a valid, empty zip
    cases = {
        str(tmp_path / "nope.shp"): "file_missing",
        str(tmp_path / "broken.geojson"): "file_unreadable",
        str(tmp_path / "two.gpkg"): "several_layers",
        f"{tmp_path / 'two.gpkg'}::c": "several_layers",
        str(tmp_path / "empty.zip"): "file_empty",
    }
    for spec, kind in cases.items():
        result = check_files({**files, "district": spec})
        assert kinds(result.problems) == {kind}, (spec, result.problems)
    assert check_files({**files, "district": f"{tmp_path / 'two.gpkg'}::b"}).ok


def test_missing_fields_name_what_the_file_has(tmp_path: Path) -> None:
    frames = city()
    frames["township"] = frames["township"].rename(columns={"code": "foo"})
    result = check_files(write(frames, tmp_path))
    assert kinds(result.problems) == {"field_missing"}
    zh = render(result.problems, "zh")
    assert "缺少代码字段" in zh and "--code-field" in zh and "foo" in zh
    named = check_files(write(city(), tmp_path / "b"), ImportOptions(fields={"grid": FieldMap(parent="SJDM")}))
    assert kinds(named.problems) == {"field_missing"}  # a field named explicitly must exist


def test_null_and_non_polygon_geometries(tmp_path: Path) -> None:
    frames = city()
    files = write(frames, tmp_path)
    feats = features_of(frames["grid"])
    feats[0] = (feats[0][0], None)
    feats[1] = (feats[1][0], shapely.Point(113.0, 25.7))
    files["grid"] = write_raw_geojson(tmp_path / "g.geojson", feats)
    result = check_files(files)
    assert {"geometry_empty", "geometry_type"} <= kinds(result.problems)
    assert "Point" in render(result.problems, "en")


def test_many_problems_are_all_counted_and_examples_capped(tmp_path: Path) -> None:
    frames = city()
    g = frames["grid"]
    g["code"] = [c[:-1] for c in g["code"]]  # every grid code one digit short
    result = check_files(write(frames, tmp_path))
    assert sum(p.kind == "code_format" for p in result.problems) == 8
    assert "代码长度或格式错误（8）" in render(result.problems, "zh")
    assert "wrong code length or format (8)" in render(result.problems, "en")


def test_report_language(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CITYOPS_LANG", raising=False)
    assert resolve_lang(None) == "zh"
    monkeypatch.setenv("CITYOPS_LANG", "en")
    assert resolve_lang(None) == "en"
    assert resolve_lang("zh") == "zh"  # --lang wins
    with pytest.raises(ValueError):
        resolve_lang("fr")
    assert render([], "zh").startswith("校验通过")


def test_a_layer_inside_a_folder_or_zip_is_picked_by_name(tmp_path: Path) -> None:
    frames = city()
    files = write(frames, tmp_path / "base")
    folder = tmp_path / "delivery"
    folder.mkdir()
    frames["township"].to_file(folder / "all.gpkg", layer="townships")
    frames["district"].to_file(folder / "all.gpkg", layer="districts")
    assert check_files({**files, "township": f"{folder}::townships"}).ok  # the folder's one file, its layer
    assert kinds(check_files({**files, "township": str(folder)}).problems) == {"several_layers"}
    zipped = tmp_path / "two.zip"
    with zipfile.ZipFile(zipped, "w") as zf:
        zf.write(files["township"], "a/townships.geojson")
        zf.write(files["district"], "a/districts.geojson")
    assert check_files({**files, "township": f"{zipped}::townships"}).ok  # a member, by its name
    assert kinds(check_files({**files, "township": str(zipped)}).problems) == {"several_layers"}
