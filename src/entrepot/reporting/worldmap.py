"""Country outlines for plotly's geographic maps, embedded in the page so a map draws offline.

plotly.js fetches its outlines (TopoJSON `world_110m.json`) from a CDN unless they are already in
`window.PlotlyGeoAssets.topojson`, which is how its own offline bundle (plotly-geo-assets.js) works.
The outlines here are the Natural Earth 1:110m countries shipped in the `countryinfo` package, as a
TopoJSON whose objects are the ones plotly draws: `countries` (ISO3 ids and a centroid `ct` for
hover labels, as in plotly's files; for choropleths and borders), `land` and `coastlines` (the same
shapes), and empty ocean, lakes, rivers and subunits.
"""

from __future__ import annotations

import json
from functools import cache
from itertools import pairwise
from typing import Any

TOPOJSON_NAME = "world_110m"  # plotly's name for scope "world" at resolution 110


@cache
def world_topojson() -> dict[str, Any]:
    """Every country outline countryinfo has, one arc per ring (no shared borders), degrees to 0.01."""
    from countryinfo import CountryInfo

    arcs: list[list[list[float]]] = []
    geometries = []
    for info in CountryInfo.all().values():
        for feature in (info.get("geoJSON") or {}).get("features", []):
            geometry = feature["geometry"]
            polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
            shape = []
            for polygon in polygons:
                rings = []
                for k, ring in enumerate(polygon):
                    if k == 0 and planar_area(ring) > 0:  # d3 fills clockwise outer rings; the other way is the globe
                        ring = ring[::-1]
                    arcs.append([[round(x, 2), round(y, 2)] for x, y in ring])
                    rings.append([len(arcs) - 1])
                shape.append(rings)
            outer = [arcs[rings[0][0]] for rings in shape]
            geometries.append({"type": "MultiPolygon", "arcs": shape, "id": feature["id"],
                               "properties": {"ct": centroid(max(outer, key=lambda r: -planar_area(r)))}})
    countries = {"type": "GeometryCollection", "geometries": geometries}
    empty = {"type": "GeometryCollection", "geometries": []}  # layers plotly reads even when hidden
    objects = {"countries": countries, "land": countries, "coastlines": countries} | dict.fromkeys(("ocean", "lakes", "rivers", "subunits"), empty)
    return {"type": "Topology", "arcs": arcs, "objects": objects}


def centroid(ring: list[list[float]]) -> list[float]:
    """A ring's planar centroid (lon, lat): where plotly anchors a country's hover label."""
    a = planar_area(ring)
    cx = sum((x0 + x1) * (x0 * y1 - x1 * y0) for (x0, y0), (x1, y1) in pairwise(ring)) / (6 * a)
    cy = sum((y0 + y1) * (x0 * y1 - x1 * y0) for (x0, y0), (x1, y1) in pairwise(ring)) / (6 * a)
    return [round(cx, 2), round(cy, 2)]


def planar_area(ring: list[list[float]]) -> float:
    """Signed area of a lon/lat ring (shoelace): positive when it runs counter-clockwise."""
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in pairwise(ring)) / 2


def geo_assets_script() -> str:
    """A <script> giving plotly.js the outlines, so geo maps after it need no network."""
    data = json.dumps(world_topojson(), separators=(",", ":"))
    return (f"<script>window.PlotlyGeoAssets = window.PlotlyGeoAssets || {{topojson: {{}}}};"
            f"window.PlotlyGeoAssets.topojson[{json.dumps(TOPOJSON_NAME)}] = {data};</script>")
