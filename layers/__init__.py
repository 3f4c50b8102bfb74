"""Boundary layers 区县 → 乡镇街道 → 网格: conversion, tagging, storage.

- ``layers.coords``: WGS84 ↔ GCJ-02 ↔ BD-09, vectorised (numpy only).
- ``layers.geo``: the layers as GeoDataFrames (:class:`~layers.geo.Layers`), ``tag_points``
  and ``web_geojson``; the committed 郴州 demo files live in ``layers/data``.
- ``layers.loader``: boundary versions in PostgreSQL (``load_demo_layers``,
  ``load_active_layers``); ``python -m layers load-demo`` is its CLI.
- ``layers.build_demo``: regenerates ``layers/data`` (build time only).

Kept import-free so ``layers.coords`` does not pull in geopandas.
"""
