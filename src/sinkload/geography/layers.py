"""What a region layer is, and what loading one reports (plain data, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field

import shapely

from sinkload.geography.sphere import area_km2


@dataclass(frozen=True)
class Unit:
    """One unit of a layer: its name (any Unicode text), polygon (EPSG:4326) and optional order and names."""
    name: str
    geom: shapely.Geometry
    rank: int | None = None
    name_en: str | None = None
    code: str | None = None


@dataclass(frozen=True)
class Layer:
    """A named layer (the marts' `scope`) and where it came from."""
    name: str
    units: list[Unit]
    file_name: str
    sha256: str
    name_field: str
    source_crs: str | None
    tiles_national: bool = False
    iso3: str | None = None
    note: str | None = None
    file_layer: str | None = None  # the options it was read with (provenance)
    encoding: str | None = None


@dataclass(frozen=True)
class UnitSummary:
    name: str
    rank: int | None
    name_en: str | None
    area_km2: float  # on the sphere R = 6 371 000 m
    polygons: int
    vertices: int


@dataclass(frozen=True)
class LayerSummary:
    """What a load stored, and what its checks found (findings are plain-text lines)."""
    layer: str
    source: str
    tiles_national: bool
    iso3: str | None
    units: list[UnitSummary]
    findings: list[str] = field(default_factory=list)


def summarise(layer: Layer, source: str, findings: list[str]) -> LayerSummary:
    units = [UnitSummary(u.name, u.rank, u.name_en, area_km2(u.geom), len(getattr(u.geom, "geoms", [u.geom])),
                         int(shapely.get_num_coordinates(u.geom))) for u in ordered(layer.units)]
    return LayerSummary(layer.name, source, layer.tiles_national, layer.iso3, units, findings)


def ordered(units: list[Unit]) -> list[Unit]:
    """Units by rank (units without one last), then by name."""
    return sorted(units, key=lambda u: (u.rank is None, u.rank if u.rank is not None else 0, u.name))
