"""Boundary layers 区县 → 乡镇街道 → 网格: conversion, tagging, import, storage, web GeoJSON.

- ``layers.coords``: WGS84 ↔ GCJ-02 ↔ BD-09, vectorised (numpy only).
- ``layers.geo``: the layers as GeoDataFrames (:class:`~layers.geo.Layers`) and ``tag_points``
  (codes + near-boundary flag); the committed 郴州 demo files live in ``layers/data``.
- ``layers.lookup`` / ``layers.near``: the lookup-raster point-in-polygon and the
  distance-to-border test behind ``tag_points``; ``layers.plane``: a local metric plane.
- ``layers.sources`` → ``layers.validate`` → ``layers.importer``: a city's own files
  (GeoJSON, Shapefile, GeoPackage) read, checked, and loaded as a new version or refused
  with a report (``layers.report``, 中文/English); ``layers.densify``, ``layers.progress``.
- ``layers.loader``: boundary versions in PostgreSQL (``write_version``, ``load_demo_layers``,
  ``load_active_layers``, ``active_version``).
- ``layers.web``: simplified GeoJSON per level and zoom for the browser, with sizes.
- ``layers.build_demo``: regenerates ``layers/data`` (build time only).
- ``python -m layers load-demo | active | import | web-sizes``: the CLI (``layers.__main__``).

Kept import-free so ``layers.coords`` does not pull in geopandas.
"""
