"""`sinkload report`: the study's tables and figures, read from the marts (as the analyst role).

Units are ordered by the rank their layer gives, then by name: no unit name is written here. The layers'
ranks, English names (figure labels: the Chinese names of the default provinces have no glyphs in the default
fonts) and outlines (simplified to OUTLINE_SIMPLIFY_DEG, drawn on the maps) are read from raw.region as the
transformer role (read-only on raw); without access to them, units are ordered by name, labelled by name and
the maps have no outlines."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from sinkload.db.warehouse import Warehouse  # noqa: E402
from sinkload.errors import SinkloadError  # noqa: E402

ENSEMBLE_MEAN = "ensemble_mean"
SCOPE_TITLES = {"national": "National", "division": "Geographic divisions", "province": "Provinces",
                "ecosystem": "Ecosystems"}
OUTLINE_SIMPLIFY_DEG = 0.02
UNIT_FIGURES = {"division": "fig5_divisions.png", "ecosystem": "fig6_ecosystems.png",
                "province": "fig7_provinces.png"}
MANY_UNITS = 8  # more units than this: horizontal bars


@dataclass(frozen=True)
class MartData:
    summary: list[tuple]
    spread: list[tuple]
    monthly: list[tuple]
    cells: list[tuple]
    zonal: list[tuple]
    ranks: dict[tuple[str, str], int] = field(default_factory=dict)  # (scope, unit) -> rank in its layer
    names_en: dict[tuple[str, str], str] = field(default_factory=dict)  # (scope, unit) -> English name
    outlines: dict[str, list] = field(default_factory=dict)  # scope -> [lon/lat rings] of its units


def unit_label(data: MartData, scope: str, unit: str, *, figure: bool = False) -> str:
    """A unit as shown: its name, with its English name when it differs (figures: the English name only)."""
    name_en = data.names_en.get((scope, unit))
    if figure:
        return name_en or unit
    return f"{unit} ({name_en})" if name_en and name_en != unit else unit


def unit_order(data: MartData, scope: str, units: set[str]) -> list[str]:
    """A scope's units by their layer's rank (units without one last), then by name."""
    def key(unit: str) -> tuple:
        rank = data.ranks.get((scope, unit))
        return (rank is None, rank or 0, unit)

    return sorted(units, key=key)


def scope_order(data: MartData) -> list[str]:
    """national first, ecosystem last, the other layers by name between them."""
    scopes = {row[2] for row in data.summary}
    middle = sorted(scopes - {"national", "ecosystem"})
    return [s for s in ("national", *middle, "ecosystem") if s in scopes]


def read_marts(warehouse: Warehouse) -> MartData:
    """Everything the report shows, from the marts views, as the read-only analyst."""
    with warehouse.as_analyst() as conn:
        def rows(query: str) -> list[tuple]:
            return conn.execute(query).fetchall()

        data = MartData(
            summary=rows("select product, member, scope, unit, n_years, mean_pgc_yr, interannual_sd_pgc_yr, "
                         "share_pct from marts.sink_summary order by product, member, scope, unit"),
            spread=rows("select product, scope, unit, n_members, member_mean_pgc_yr, member_sd_pgc_yr, "
                        "member_min_pgc_yr, member_max_pgc_yr from marts.ensemble_spread order by 1, 2, 3"),
            monthly=rows("select product, member, month, sink_tgc from marts.sink_monthly "
                         "where scope = 'national' order by product, member, month"),
            cells=rows("select product, member, lon, lat, sink_gc_m2_yr from marts.sink_cell_mean"),
            zonal=rows("select product, member, lat, month, sink_gc_m2_day from marts.sink_zonal_monthly"),
        )
    return with_layers(data, warehouse)


def with_layers(data: MartData, warehouse: Warehouse) -> MartData:
    """`data` with the stored layers' ranks, English names and outlines (rings as lon/lat arrays, simplified);
    unchanged when the transformer cannot read raw.region."""
    import psycopg
    import shapely

    try:
        with warehouse.as_transformer() as conn:
            rows = conn.execute("select scope, name, rank, name_en, "
                                "st_asbinary(st_simplifypreservetopology(geom, %s)) from raw.region",
                                [OUTLINE_SIMPLIFY_DEG]).fetchall()
    except psycopg.Error:
        return data
    outlines: dict[str, list] = defaultdict(list)
    for scope, _name, _rank, _name_en, wkb in rows:
        geom = shapely.from_wkb(bytes(wkb))
        for polygon in getattr(geom, "geoms", [geom]):
            for ring in (polygon.exterior, *polygon.interiors):
                outlines[scope].append(np.asarray(ring.coords))
    return replace(data, outlines=dict(outlines),
                   ranks={(scope, name): rank for scope, name, rank, _e, _g in rows if rank is not None},
                   names_en={(scope, name): name_en for scope, name, _r, name_en, _g in rows if name_en})


def headline_member(members: set[str]) -> str:
    """The member a product is shown by: its ensemble mean, or its only model."""
    return ENSEMBLE_MEAN if ENSEMBLE_MEAN in members else sorted(members)[0]


def headline_members(summary: list[tuple]) -> dict[str, str]:
    members: dict[str, set[str]] = defaultdict(set)
    for product, member, *_ in summary:
        members[product].add(member)
    return {product: headline_member(names) for product, names in members.items()}


# -- figures ----------------------------------------------------------------------------------------------

def _grid(points: list[tuple[float, float, float | None]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lons = np.unique([p[0] for p in points])
    lats = np.unique([p[1] for p in points])
    values = np.full((lats.size, lons.size), np.nan)
    for lon, lat, value in points:
        if value is not None:
            values[np.searchsorted(lats, lat), np.searchsorted(lons, lon)] = value
    return lons, lats, values


def figure_maps(data: MartData, heads: dict[str, str], out: Path) -> Path:
    products = sorted(heads)
    fig, axes = plt.subplots(1, len(products), figsize=(5 * len(products), 4), squeeze=False)
    values_all = [c[4] for c in data.cells if c[4] is not None and heads.get(c[0]) == c[1]]
    limit = float(np.nanpercentile(np.abs(values_all), 98)) if values_all else 1.0
    for ax, product in zip(axes[0], products, strict=True):
        lons, lats, values = _grid([(c[2], c[3], c[4]) for c in data.cells if c[0] == product and c[1] == heads[product]])
        mesh = ax.pcolormesh(lons, lats, values, cmap="RdYlGn", vmin=-limit, vmax=limit, shading="nearest")
        draw_outlines(ax, data.outlines)
        ax.set_title(f"{product} [{heads[product]}]", fontsize=9)
        ax.set_aspect("equal")
    fig.colorbar(mesh, ax=axes[0].tolist(), label="mean annual sink, g C m⁻² yr⁻¹")
    fig.suptitle("Mean annual sink per 1° cell over the period (positive = uptake)")
    return _save(fig, out / "fig2_mean_sink_maps.png")


def draw_outlines(ax: plt.Axes, outlines: dict[str, list]) -> None:
    """The national outline, and the province (else division) outlines under it, as lines (axes limits kept)."""
    inner = "province" if "province" in outlines else "division"
    limits = ax.get_xlim(), ax.get_ylim()
    for scope, colour, width in ((inner, "dimgrey", 0.3), ("national", "black", 0.7)):
        for ring in outlines.get(scope, []):
            ax.plot(ring[:, 0], ring[:, 1], color=colour, lw=width)
    ax.set_xlim(*limits[0])
    ax.set_ylim(*limits[1])


def figure_monthly(data: MartData, heads: dict[str, str], out: Path) -> Path:
    fig, ax = plt.subplots(figsize=(11, 4.5))
    series: dict[tuple[str, str], list[tuple]] = defaultdict(list)
    for product, member, month, tgc in data.monthly:
        series[(product, member)].append((month, tgc))
    colours = dict(zip(sorted(heads), plt.cm.tab10.colors, strict=False))
    for (product, member), points in sorted(series.items()):
        months, values = zip(*points, strict=True)
        values = [np.nan if v is None else v for v in values]
        if member == heads[product]:
            ax.plot(months, values, color=colours[product], lw=2.2, label=f"{product} [{member}]", zorder=3)
        else:
            ax.plot(months, values, color=colours[product], lw=0.6, alpha=0.35, zorder=1)
    ax.axhline(0, color="grey", lw=0.5)
    ax.set_ylabel("national sink, Tg C month⁻¹")
    ax.set_title("Monthly national sink (thin: inversion members)")
    ax.legend(fontsize=8)
    return _save(fig, out / "fig3a_monthly_china.png")


def figure_annual_means(data: MartData, heads: dict[str, str], out: Path) -> Path:
    products = sorted(heads)
    rows = {p: (mean, sd) for p, m, s, _u, _n, mean, sd, _sh in data.summary if s == "national" and heads[p] == m}
    fig, ax = plt.subplots(figsize=(1.8 * len(products) + 2, 4))
    means = [rows.get(p, (np.nan, 0))[0] for p in products]
    sds = [rows.get(p, (np.nan, 0))[1] or 0 for p in products]
    ax.bar(products, means, yerr=sds, capsize=6, color="seagreen")
    ax.set_ylabel("Pg C yr⁻¹")
    ax.set_title("Mean annual national sink ± interannual SD")
    ax.tick_params(axis="x", labelsize=8)
    return _save(fig, out / "fig3b_annual_china.png")


def figure_zonal(data: MartData, heads: dict[str, str], out: Path) -> Path:
    products = sorted(heads)
    fig, axes = plt.subplots(1, len(products), figsize=(4.5 * len(products), 4), squeeze=False, sharey=True)
    for ax, product in zip(axes[0], products, strict=True):
        rows = [r for r in data.zonal if r[0] == product and r[1] == heads[product]]
        if not rows:
            continue
        months = sorted({r[3] for r in rows})
        lats = sorted({r[2] for r in rows})
        values = np.full((len(lats), len(months)), np.nan)
        for _p, _m, lat, month, value in rows:
            values[lats.index(lat), months.index(month)] = np.nan if value is None else value
        limit = float(np.nanmax(np.abs(values))) or 1.0
        mesh = ax.pcolormesh(months, lats, values, cmap="RdYlGn", vmin=-limit, vmax=limit, shading="nearest")
        ax.set_title(f"{product} [{heads[product]}]", fontsize=9)
        ax.tick_params(axis="x", labelrotation=45, labelsize=7)
        fig.colorbar(mesh, ax=ax, label="g C m⁻² d⁻¹")
    axes[0][0].set_ylabel("latitude")
    fig.suptitle("Zonal mean sink over the national land, latitude × month")
    return _save(fig, out / "fig4_zonal_hovmoller.png")


def figure_units(data: MartData, heads: dict[str, str], scope: str, out: Path, name: str) -> Path:
    """Mean annual sink ± SD per unit of a scope, one bar per product (horizontal for many units)."""
    products = sorted(heads)
    rows = {(p, u): (mean, sd, share) for p, m, s, u, _n, mean, sd, share in data.summary
            if s == scope and heads[p] == m}
    units = unit_order(data, scope, {u for _p, u in rows})
    horizontal = len(units) > MANY_UNITS
    size = (9, 0.2 * len(units) * max(len(products), 1) ** 0.5 + 2) if horizontal else (2.2 * len(units) + 2, 4.5)
    fig, ax = plt.subplots(figsize=size)
    width = 0.8 / max(len(products), 1)
    for k, product in enumerate(products):
        x = np.arange(len(units)) + k * width
        stats = [rows.get((product, u), (np.nan, 0, None)) for u in units]
        means = [np.nan if s[0] is None else s[0] for s in stats]
        errors = [s[1] or 0 for s in stats]
        if horizontal:
            ax.barh(x, means, width, xerr=errors, capsize=2, label=product)
        else:
            ax.bar(x, means, width, yerr=errors, capsize=3, label=product)
            for xi, (mean, _sd, share) in zip(x, stats, strict=True):
                if share is not None and mean is not None:
                    ax.annotate(f"{share:.0f}%", (xi, mean), ha="center", va="bottom", fontsize=7)
    ticks = np.arange(len(units)) + width * (len(products) - 1) / 2
    labels = [unit_label(data, scope, u, figure=True) for u in units]
    if horizontal:
        ax.set_yticks(ticks, labels, fontsize=7)
        ax.invert_yaxis()
        ax.axvline(0, color="grey", lw=0.5)
        ax.set_xlabel("Pg C yr⁻¹")
    else:
        ax.set_xticks(ticks, labels)
        ax.axhline(0, color="grey", lw=0.5)
        ax.set_ylabel("Pg C yr⁻¹")
    ax.set_title(f"Mean annual sink per {scope} unit ± interannual SD"
                 + ("" if horizontal else " (labels: share of the scope's sum)"))
    ax.legend(fontsize=8)
    return _save(fig, out / name)


def _save(fig: plt.Figure, path: Path) -> Path:
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


@dataclass(frozen=True)
class Report:
    """What `write_report` read and drew: the marts' data, each product's headline member, the figures."""

    data: MartData
    heads: dict[str, str]
    figures: list[Path]


def write_report(warehouse: Warehouse, out_dir: Path) -> Report:
    """Read the marts and write the study's figures (PNG) into out_dir; the tables are in the returned data."""
    data = read_marts(warehouse)
    if not data.summary:
        raise SinkloadError("marts.sink_summary: no rows (ingest data and run `sinkload build` first)")
    heads = headline_members(data.summary)
    out_dir.mkdir(parents=True, exist_ok=True)
    figures = [
        figure_maps(data, heads, out_dir),
        figure_monthly(data, heads, out_dir),
        figure_annual_means(data, heads, out_dir),
        figure_zonal(data, heads, out_dir),
    ]
    figures += [figure_units(data, heads, scope, out_dir, UNIT_FIGURES.get(scope, f"fig_layer_{scope}.png"))
                for scope in scope_order(data) if scope != "national"]
    return Report(data, heads, figures)
