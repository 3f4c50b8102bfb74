"""The big screen's map, one model for every part of it.

- ``model``: the types (trace order ``T``, ``BaseMap``, ``View``, ``Changes``, ``Layer``, ``Scene``)
  and their conversions to and from the JSON the browser keeps.
- ``basemap``: boundary rows of one version → the ``BaseMap`` (polygons simplified by ``layers.web``).
- ``views``: the traces the views own (area fills, focus line, names) and what a view changes.
- ``points``, ``areas``: the layers, each with its read, draw, style and marker sizes in one definition.
- ``registry``: the layers in the order of the map's switches, and which are due when.
- ``figure``: assembles the figure from the views and the layers; fits it to a screen.

Imports go one way: model ← basemap, views ← points, areas ← registry, figure.
"""
