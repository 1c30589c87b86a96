"""The marts computed in memory from the sample files with numpy and shapely/pyproj (tests/independent.py),
for the end-to-end test and the build benchmark. Shares nothing with the package."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import psycopg
import pyogrio.raw
import shapely

from tests.independent import (
    cell_area_m2,
    cell_overlaps,
    dominant_classes,
    dominant_groups,
    month_days,
    read_beps,
    read_mip,
    read_trendy,
    to_one_degree,
)

PERIOD = (2015, 2019)


def query(url: str, sql: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchall()


def expected_marts(url: str, manifest, landcover_rule: str = "group_first") -> dict:
    """The marts computed independently from the sample files and the region polygons and land-cover
    classes stored at `url` (the only things read from the database)."""
    geo = geography(url, manifest, landcover_rule)
    marts = compute_marts(read_fields(manifest), geo.weights, geo.national_w, geo.box)
    marts["weights"] = cell_weights(geo.weights, geo.box)
    marts["dominant"] = geo.dominant
    marts["methods"] = method_means(marts, geo.national_w, method_weights(
        geo.regions, geo.dominant, landcover_rule, geo.national_w, geo.class_shares, geo.box), geo.box)
    del marts["one_degree"]
    return marts


@dataclass
class Geography:
    """What the marts' numbers depend on besides the flux files: the stored region polygons, the 1° box
    (lon0, lon1, lat0, lat1), the national weights [lat, lon] (m²), the dominant land cover under each rule,
    the ecosystems' class shares, and the weights (m²) of every (scope, unit) including the ecosystems."""

    regions: dict
    box: tuple[int, int, int, int]
    national_w: np.ndarray
    dominant: dict[str, np.ndarray]
    class_shares: dict[str, np.ndarray]
    weights: dict[tuple[str, str], np.ndarray]


def geography(url: str, manifest, landcover_rule: str = "group_first", overlaps=cell_overlaps) -> Geography:
    """Regions from `url`, land cover from the manifest's file, measured on the 1° cells by `overlaps`
    (independent.cell_overlaps' signature; the baseline benchmark passes a faster exact one)."""
    regions = {(scope, name): shapely.from_wkb(bytes(wkb))
               for scope, name, wkb in query(url, "select scope, name, st_asbinary(geom) from raw.region")}
    classes = {code: (cls, is_eco, rank) for code, cls, is_eco, rank in
               query(url, "select code, class, is_ecosystem, class_rank from raw.landcover_class")}
    national_name = next(name for scope, name in regions if scope == "national")
    minx, miny, maxx, maxy = regions[("national", national_name)].bounds
    box_ = int(np.floor(minx)), int(np.ceil(maxx)), int(np.floor(miny)), int(np.ceil(maxy))

    # a unit counts within the nation only
    national = regions[("national", national_name)]
    unit_areas = overlaps({f"{s}|{n}": g if s == "national" else shapely.intersection(g, national)
                           for (s, n), g in regions.items()}, *box_)
    national_w = unit_areas[f"national|{national_name}"]
    dominant, class_areas = dominant_landcover(manifest, classes, box_, overlaps)
    cell_areas = np.array([[cell_area_m2(y, y + 1)] for y in range(box_[2], box_[3])])
    class_shares = {cls: class_areas[cls] / cell_areas for cls, is_eco, _r in set(classes.values())
                    if is_eco and cls in class_areas}
    weights = {tuple(key.split("|", 1)): w for key, w in unit_areas.items()}
    for cls, is_eco, _rank in set(classes.values()):
        if is_eco:
            weights[("ecosystem", cls)] = np.where(dominant[landcover_rule] == cls, national_w, 0.0)
    return Geography(regions, box_, national_w, dominant, class_shares, weights)


def read_fields(manifest) -> dict:
    """Per (product, member): the file's Field (g C m-2 per month, positive = sink)."""
    fields = {}
    for item in manifest.flux:
        if item.product == "beps":
            fields[(item.product, item.member)] = read_beps(list(item.paths))
        elif item.product == "vegas":
            fields[(item.product, item.member)] = read_trendy(item.paths[0])
        else:
            for path in item.paths:
                member = item.member or path.name.split("_gridded_fluxes")[0]
                fields[(item.product, member)] = read_mip(path)
    return fields


def method_weights(regions, dominant, rule, national_w, class_shares, box_) -> dict[str, dict]:
    """The weights of marts.method_comparison's other methods: cell_centre (whole cells whose centre lies in
    the unit, shapely), group_first / merge_first and class_fraction for ecosystems."""
    lon0, lon1, lat0, lat1 = box_
    centres = shapely.points([(x + 0.5, y + 0.5) for y in range(lat0, lat1) for x in range(lon0, lon1)])
    areas = np.array([[cell_area_m2(y, y + 1) for _x in range(lon0, lon1)] for y in range(lat0, lat1)])
    shape = areas.shape
    centre = {key: np.where(np.asarray(shapely.covers(geom, centres)).reshape(shape), areas, 0.0)
              for key, geom in regions.items()}
    national_centre = next(w for (scope, _n), w in centre.items() if scope == "national")
    ecosystems = {cls for cls in class_shares}
    methods = {"cell_centre": {**centre, **{("ecosystem", cls): np.where(dominant[rule] == cls, national_centre, 0.0)
                                            for cls in ecosystems}},
               "class_fraction": {("ecosystem", cls): national_w * share for cls, share in class_shares.items()}}
    for name, grid in dominant.items():
        methods[name] = {("ecosystem", cls): np.where(grid == cls, national_w, 0.0) for cls in ecosystems}
    return methods


def method_means(marts, national_w, others, box_) -> dict:
    """(product, member, scope, unit, method) -> mean_pgc_yr; exact_overlap is the marts' own."""
    means = {(*key, "exact_overlap"): row["mean"] for key, row in marts["summary"].items()}
    for method, method_w in others.items():
        summary = unit_marts(marts["one_degree"], method_w, national_w, box_)["summary"]
        means.update({(*key, method): row["mean"] for key, row in summary.items()})
    return means


def dominant_landcover(manifest, classes: dict, box_: tuple,
                       overlaps=cell_overlaps) -> tuple[dict[str, np.ndarray], dict]:
    """[lat, lon] dominant class under both rules (group_first, the study's, and merge_first), and the
    [lat, lon] area (m^2) of each class."""
    meta, _fids, wkb, field_data = pyogrio.raw.read(manifest.landcover)
    codes = field_data[list(meta["fields"]).index(manifest.landcover_code_field)]
    group_geoms, class_geoms = defaultdict(list), defaultdict(list)
    for code, geom in zip(codes, shapely.from_wkb(wkb), strict=True):
        group_geoms[int(code)].append(geom)
        class_geoms[classes[int(code)][0]].append(geom)
    group_areas = overlaps({c: shapely.union_all(g) for c, g in group_geoms.items()}, *box_)
    class_areas = {}
    for code, areas in group_areas.items():
        cls = classes[code][0]
        class_areas[cls] = class_areas.get(cls, 0.0) + areas
    ranks = {cls: rank for cls, _eco, rank in classes.values()}
    return {"group_first": dominant_groups(group_areas, classes),
            "merge_first": dominant_classes(class_areas, ranks)}, class_areas


def cell_weights(weights: dict, box_: tuple) -> dict:
    """(scope, unit, lon, lat) -> (share of the cell, weight m^2) for every cell with a weight."""
    lon0, lon1, lat0, lat1 = box_
    out = {}
    for (scope, unit), w in weights.items():
        for j, i in zip(*np.nonzero(w > 0), strict=True):
            south = lat0 + j
            area = cell_area_m2(south, south + 1)
            out[(scope, unit, lon0 + i + 0.5, south + 0.5)] = (w[j, i] / area, w[j, i])
    return out


def compute_marts(fields, weights, national_w, box_):
    one_degree = one_degree_fields(fields, box_)
    marts = unit_marts(one_degree, weights, national_w, box_)
    marts["one_degree"] = one_degree
    return marts


def one_degree_fields(fields, box_):
    """(product, member) -> (months of the period present, [month, lat, lon] 1° values), with the ensemble
    mean of each ensemble product."""
    lon0, lon1, lat0, lat1 = box_
    period = [(y, m) for y in range(PERIOD[0], PERIOD[1] + 1) for m in range(1, 13)]
    one_degree = {}
    for key, field in fields.items():
        index = {ym: k for k, ym in enumerate(field.months)}
        present = [ym for ym in period if ym in index]
        values = to_one_degree(field, lon0, lon1, lat0, lat1)
        one_degree[key] = (present, values[[index[ym] for ym in present]])
    ensembles = defaultdict(list)
    for (product, _member), (present, values) in one_degree.items():
        if product == "oco2_v10_mip_lnlgis":
            ensembles[product].append((present, values))
    for product, stack in ensembles.items():
        present = stack[0][0]
        one_degree[(product, "ensemble_mean")] = (present, np.nanmean(np.stack([v for _p, v in stack]), axis=0))
    return one_degree


def unit_marts(one_degree, weights, national_w, box_):
    lon0, lon1, lat0, lat1 = box_
    weights = {key: w for key, w in weights.items() if (w > 0).any()}
    lats = lat0 + 0.5 + np.arange(lat1 - lat0)
    lons = lon0 + 0.5 + np.arange(lon1 - lon0)
    monthly, annual, zonal, cell_mean = {}, {}, {}, {}
    coverage, annual_coverage = {}, {}
    for (product, member), (present, values) in one_degree.items():
        valid = np.isfinite(values)
        clean = np.where(valid, values, 0.0)
        for unit_key, w in weights.items():
            tgc = np.einsum("tji,ji->t", clean, w) / 1e12
            has = np.einsum("tji,ji->t", valid.astype(float), (w > 0).astype(float)) > 0
            valid_m2 = np.einsum("tji,ji->t", valid.astype(float), w)
            for k, ym in enumerate(present):
                monthly[(product, member, *unit_key, ym)] = tgc[k] if has[k] else None
                coverage[(product, member, *unit_key, ym)] = (valid_m2[k] / 1e6, 100 * valid_m2[k] / w.sum())
            for year in sorted({y for y, _m in present}):
                months = [monthly.get((product, member, *unit_key, (year, m))) for m in range(1, 13)]
                if all(v is not None for v in months):
                    annual[(product, member, *unit_key, year)] = sum(months) / 1000
                    annual_coverage[(product, member, *unit_key, year)] = min(
                        coverage[(product, member, *unit_key, (year, m))][1] for m in range(1, 13))
        band_w = np.where(national_w > 0, national_w, 0.0)
        for k, ym in enumerate(present):
            num = (clean[k] * band_w).sum(axis=1)
            den = (valid[k] * band_w).sum(axis=1)
            for j in np.nonzero(den > 0)[0]:
                zonal[(product, member, lats[j], ym)] = num[j] / den[j] / month_days(*ym)
        years = sorted({y for y, _m in present})
        yearly = []
        for year in years:
            idx = [present.index((year, m)) for m in range(1, 13) if (year, m) in present]
            if len(idx) == 12:
                block = values[idx]
                yearly.append(np.where(np.isfinite(block).all(axis=0), block.sum(axis=0), np.nan))
        stack = np.array(yearly) if yearly else np.full((1, *national_w.shape), np.nan)
        counts = np.isfinite(stack).sum(axis=0)
        with np.errstate(invalid="ignore"):
            means = np.where(counts > 0, np.nansum(stack, axis=0) / np.maximum(counts, 1), np.nan)
        for j, i in zip(*np.nonzero(national_w > 0), strict=True):
            cell_mean[(product, member, lons[i], lats[j])] = None if np.isnan(means[j, i]) else means[j, i]
    summary = summarise(annual)
    for key, row in summary.items():
        row["min_coverage"] = min(v for k, v in annual_coverage.items() if k[:4] == key)
    return {"monthly": monthly, "annual": annual, "summary": summary, "zonal": zonal,
            "cell_mean": cell_mean, "spread": spread(summary), "coverage": coverage,
            "annual_coverage": annual_coverage}


def summarise(annual):
    by_unit = defaultdict(list)
    for (product, member, scope, unit, year), value in annual.items():
        by_unit[(product, member, scope, unit)].append((year, value))
    summary = {}
    for key, items in by_unit.items():
        values = np.array([v for _y, v in items])
        years = [y for y, _v in items]
        summary[key] = {"first_year": min(years), "last_year": max(years), "n_years": len(values),
                        "mean": values.mean(), "sd": values.std(ddof=1) if len(values) > 1 else None}
    totals = defaultdict(float)
    for (product, member, scope, _unit), row in summary.items():
        totals[(product, member, scope)] += row["mean"]
    for (product, member, scope, _unit), row in summary.items():
        total = totals[(product, member, scope)]
        row["share"] = None if scope == "national" or total == 0 else 100 * row["mean"] / total
    return summary


def spread(summary):
    by_unit = defaultdict(list)
    for (product, member, scope, unit), row in summary.items():
        if product == "oco2_v10_mip_lnlgis" and member != "ensemble_mean":
            by_unit[(product, scope, unit)].append(row["mean"])
    return {key: {"n": len(v), "mean": np.mean(v), "sd": np.std(v, ddof=1), "min": min(v), "max": max(v)}
            for key, v in by_unit.items()}
