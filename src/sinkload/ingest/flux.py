"""`sinkload ingest flux`: files (or folders of them) -> raw.flux_tile, one transaction per command.

Every file's metadata is checked before anything is written; the files are then loaded one at a time inside
one transaction, so a file that turns out bad half-way (an all-NaN month, say) leaves the database as before.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from sinkload import __version__
from sinkload.catalog import Product, load_catalog
from sinkload.db.rasters import Tile, month_digest, raster_wkb, tile_size, tiles
from sinkload.db.raw_state import already_loaded, stored_month_digests
from sinkload.db.warehouse import Warehouse
from sinkload.errors import SinkloadError, file_error, shown
from sinkload.files import sha256_of
from sinkload.ingest.claims import Claim, conflicts
from sinkload.ingest.one_degree import StoredMonth, repoint_one_degree, write_one_degree
from sinkload.ingest.status import FileStatus
from sinkload.manifest import SampleManifest
from sinkload.normalize import Grid, NormalisationError, check_valid_share, region_window
from sinkload.readers import FLUX_SUFFIXES, open_flux
from sinkload.readers.base import FluxSource

GRID_TOLERANCE_DEG = 1e-6
COPY_TILES = ("copy raw.flux_tile (product_id, member_id, month, grid_id, tile_row, tile_col, col0, row0, "
              "batch_id, month_digest, rast) from stdin")
# Progress of a long load: called with (file, months written, months in the file), from 0 to the total.
MonthProgress = Callable[[Path, int, int], None]


@dataclass
class FileResult:
    path: Path
    product: str
    member: str
    status: FileStatus  # LOADED or ALREADY_LOADED
    months: int = 0
    values: int = 0
    seconds: float = 0.0
    unchanged: int = 0  # months whose stored tiles were the same and kept (re-pointed to the new batch)


@dataclass
class IngestSummary:
    results: list[FileResult] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)  # the catalog's skip_pattern
    product: str = ""


# -- files ------------------------------------------------------------------------------------------------

def is_flux_file(relative: Path) -> bool:
    """A flux file inside a walked folder, by its path relative to that folder: a flux suffix, and no hidden
    file or folder on the way (which also passes over partial uploads such as `*.part`, `*.tmp`)."""
    return not any(part.startswith(".") for part in relative.parts) and relative.suffix.lower() in FLUX_SUFFIXES


def collect_files(paths: list[Path], product: Product) -> tuple[list[Path], list[Path]]:
    """Flux files among `paths` (folders walked, hidden files passed over) and those the catalog skips, each
    once however often it is named (a file and its folder, a path and a link to it)."""
    found, skipped, seen = [], [], set()
    for path in paths:
        if not path.exists():
            raise file_error(path, "file not found")
        candidates = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for candidate in candidates:
            if path.is_dir() and not is_flux_file(candidate.relative_to(path)):
                continue
            resolved = candidate.resolve()
            if resolved in seen:
                continue
            seen.add(resolved)
            (skipped if product.skips(candidate.name) else found).append(candidate)
    return found, skipped


def check_grid(source: FluxSource, product: Product) -> None:
    if product.resolution is None:
        return
    grid = source.order.grid
    dx, dy = product.resolution
    if abs(grid.dx - dx) > GRID_TOLERANCE_DEG or abs(grid.dy - dy) > GRID_TOLERANCE_DEG:
        raise file_error(source.path, f"grid of {grid.dx:g} x {grid.dy:g} degrees does not match product "
                                      f"{product.name}'s {dx:g} x {dy:g}")


# -- database ---------------------------------------------------------------------------------------------

def ensure_product(conn: psycopg.Connection, product: Product) -> int:
    row = conn.execute(
        "insert into raw.product (name, family, kind, release, experiment, is_ensemble, description, "
        "comparison_family) "
        "values (%s, %s, %s, %s, %s, %s, %s, %s) on conflict (name) do nothing returning product_id",
        [product.name, product.family, product.kind, product.release, product.experiment, product.is_ensemble,
         product.description, product.comparison_family]).fetchone()
    return row[0] if row else conn.execute("select product_id from raw.product where name = %s",
                                           [product.name]).fetchone()[0]


def ensure_member(conn: psycopg.Connection, product_id: int, member: str) -> int:
    row = conn.execute("insert into raw.member (product_id, name) values (%s, %s) on conflict do nothing "
                       "returning member_id", [product_id, member]).fetchone()
    return row[0] if row else conn.execute("select member_id from raw.member where product_id = %s and name = %s",
                                           [product_id, member]).fetchone()[0]


def ensure_grid(conn: psycopg.Connection, grid: Grid) -> int:
    values = [grid.west, grid.north, grid.dx, grid.dy, grid.nx, grid.ny]
    row = conn.execute("insert into raw.grid (west, north, dx, dy, nx, ny) values (%s, %s, %s, %s, %s, %s) "
                       "on conflict do nothing returning grid_id", values).fetchone()
    return row[0] if row else conn.execute(
        "select grid_id from raw.grid where west = %s and north = %s and dx = %s and dy = %s and nx = %s "
        "and ny = %s", values).fetchone()[0]


@dataclass(frozen=True)
class AnalysisRegion:
    """The box (west, south, east, north; degrees) whose cells a file's months must cover with valid values, or
    None for the whole grid; `label` says which, for messages."""

    bbox: tuple[float, float, float, float] | None
    label: str


def analysis_region(conn: psycopg.Connection) -> AnalysisRegion:
    """The national layer's bounding box when that layer is loaded, else the whole grid."""
    row = conn.execute("select st_xmin(e), st_ymin(e), st_xmax(e), st_ymax(e) from "
                       "(select st_extent(geom) as e from raw.region where scope = 'national') x").fetchone()
    if row is None or row[0] is None:
        return AnalysisRegion(None, "the whole grid: no national layer loaded")
    return AnalysisRegion(tuple(float(v) for v in row), "cells meeting the national layer's bounding box")


def _first_day(year: int, month: int) -> datetime.date:
    return datetime.date(year, month, 1)


@dataclass(frozen=True)
class _Batch:
    """Where a file's tiles go: its product, member and grid, and the load batch that owns them."""

    product_id: int
    member_id: int
    grid_id: int
    batch_id: int


@dataclass(frozen=True)
class LoadedFile:
    """What `load_file` wrote: months in the file, valid values (cells), and the months whose stored tiles had the
    same digest and were kept (re-pointed to the new batch) instead of written again."""

    months: int
    values: int
    unchanged: int


def load_file(conn: psycopg.Connection, product: Product, source: FluxSource, member: str, sha256: str,
              progress: MonthProgress | None = None) -> LoadedFile:
    """Write one file atomically (a savepoint inside the command's transaction), replacing the member's months
    it covers. Every month must have min_valid_share of the analysis region valid. A month whose digest
    (rasters.month_digest) equals that of the tiles stored for the member's month keeps those tiles: they are
    re-pointed to the new batch, which so owns all its months, rather than written again. A month of a grid
    other than the 1° grid is also stored harmonised to the 1° cells (ingest/one_degree.py)."""
    months = [_first_day(*ym) for ym in source.months]
    grid = source.order.grid
    size = tile_size(grid)
    region = analysis_region(conn)
    window = region_window(grid, region.bbox)
    n_values = 0
    unchanged: list[datetime.date] = []
    with conn.transaction():
        batch = _new_batch(conn, product, source, member, sha256, months)
        stored = stored_month_digests(conn, batch.member_id, months)
        for k, month in enumerate(months):
            values = source.normalised(k, product.sign)
            _check_share(source, k, values, window, product.min_valid_share, region.label)
            n_values += int(values.size - (values != values).sum())
            encoded = [(tile, raster_wkb(tile.values, grid, tile.row0, tile.col0)) for tile in tiles(values, size)]
            digest = month_digest(batch.grid_id, (wkb for _, wkb in encoded))
            if stored.get(month) == digest:
                unchanged.append(month)
            else:
                _write_month(conn, batch, month, digest, encoded, replaces=month in stored)
                write_one_degree(conn, StoredMonth(batch.product_id, batch.member_id, month, batch.batch_id, digest),
                                 values, grid)
            if progress is not None:
                progress(source.path, k + 1, len(months))
        if unchanged:  # the rasters are not copied: an update keeps their TOASTed values
            conn.execute("update raw.flux_tile set batch_id = %s where member_id = %s and month = any(%s)",
                         [batch.batch_id, batch.member_id, unchanged])
            repoint_one_degree(conn, batch.member_id, unchanged, batch.batch_id)
        conn.execute("update raw.load_batch set n_values = %s where batch_id = %s", [n_values, batch.batch_id])
    return LoadedFile(len(months), n_values, len(unchanged))


def _new_batch(conn: psycopg.Connection, product: Product, source: FluxSource, member: str, sha256: str,
               months: list[datetime.date]) -> _Batch:
    """The raw.load_batch row of a file (n_values 0 until its months are read), with its product, member, grid."""
    product_id = ensure_product(conn, product)
    member_id = ensure_member(conn, product_id, member)
    grid_id = ensure_grid(conn, source.order.grid)
    batch_id = conn.execute("""
        insert into raw.load_batch (product_id, member_id, grid_id, file_name, file_path, sha256, size_bytes,
            release, experiment, variable, units_found, units_assumed, factor_applied, parsed_unit, species,
            sign_applied, first_month, last_month, n_months, n_values, loader_version)
        values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 0, %s)
        returning batch_id
    """, [product_id, member_id, grid_id, source.path.name, str(source.path.resolve()), sha256,
          source.path.stat().st_size, product.release, product.experiment, source.variable,
          source.units_found, source.units_assumed, source.unit.factor_text(source.calendar),
          source.unit.parsed, source.unit.species, product.sign,
          min(months), max(months), len(months), __version__]).fetchone()[0]
    return _Batch(product_id, member_id, grid_id, batch_id)


def _write_month(conn: psycopg.Connection, batch: _Batch, month: datetime.date, digest: str,
                 encoded: list[tuple[Tile, bytes]], replaces: bool) -> None:
    """Store a month's tiles (with their WKB) for the batch, after deleting the member's stored month if any."""
    if replaces:
        conn.execute("delete from raw.flux_tile where member_id = %s and month = %s", [batch.member_id, month])
    with conn.cursor().copy(COPY_TILES) as copy:
        for tile, wkb in encoded:
            copy.write_row((batch.product_id, batch.member_id, month, batch.grid_id, tile.tile_row, tile.tile_col,
                            tile.col0, tile.row0, batch.batch_id, digest, wkb.hex()))


def _check_share(source: FluxSource, k: int, values, window, min_share: float, label: str) -> None:
    try:
        check_valid_share(values, window, min_share, label)
    except NormalisationError as exc:
        year, month = source.months[k]
        raise file_error(source.path, f"{year}-{month:02d}: {exc}") from None


# -- the command ------------------------------------------------------------------------------------------

def ingest_paths(warehouse: Warehouse, paths: list[Path], product: str, member: str | None = None,
                 catalog_path: Path | None = None, progress: MonthProgress | None = None,
                 force: bool = False) -> IngestSummary:
    """Load flux files (or folders) of one catalog product in one transaction; returns what was loaded,
    already loaded and skipped. `force` loads a file even when it is already loaded (after a catalog or
    loader correction): its months are read again, and those whose values changed are rewritten."""
    entry = load_catalog(catalog_path or warehouse.settings.catalog).product(product)
    files, skipped = collect_files([Path(p) for p in paths], entry)
    if not files:
        raise SinkloadError(f"{', '.join(shown(p) for p in paths)}: no flux files for product {entry.name}")
    summary = IngestSummary(skipped=skipped, product=entry.name)
    # Every file's metadata is checked before anything is written, and no two files may hold a member's month.
    claims = [check_metadata(path, entry, member) for path in files]
    for error in conflicts(claims).values():
        raise error
    with warehouse.loading() as conn:
        for path in files:  # one file open at a time: memory does not grow with the number of files
            summary.results.append(_ingest_one(conn, entry, path, member, progress, force))
    return summary


def check_metadata(path: Path, entry: Product, member: str | None = None) -> Claim:
    """Open a file, check its metadata and grid against the catalog; the months it holds for its member."""
    name = entry.member_for(path, member)
    source = open_flux(path, entry)
    try:
        check_grid(source, entry)
        return Claim(path, entry.name, name, tuple(source.months))
    finally:
        source.close()


def _ingest_one(conn: psycopg.Connection, entry: Product, path: Path, member: str | None,
                progress: MonthProgress | None, force: bool) -> FileResult:
    started = time.perf_counter()
    name = entry.member_for(path, member)
    sha256 = sha256_of(path)
    if not force and already_loaded(conn, entry.name, name, sha256):
        return FileResult(path, entry.name, name, FileStatus.ALREADY_LOADED)
    source = open_flux(path, entry)
    try:
        if progress is not None:
            progress(path, 0, len(source.months))
        loaded = load_file(conn, entry, source, name, sha256, progress)
    finally:
        source.close()
    return FileResult(path, entry.name, name, FileStatus.LOADED, loaded.months, loaded.values,
                      time.perf_counter() - started, loaded.unchanged)


def ingest_manifest(warehouse: Warehouse, manifest: SampleManifest) -> list[IngestSummary]:
    """Ingest every flux product of a data set written by `sinkload sample`."""
    return [ingest_paths(warehouse, list(item.paths), item.product, member=item.member)
            for item in manifest.flux]
