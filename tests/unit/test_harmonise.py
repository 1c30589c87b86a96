"""The 1° harmonisation (sinkload.harmonise) against shapely: each native cell and each 1° cell as polygons on the
sphere's equal-area plane, their intersection areas as weights, the valid cells that overlap counted."""

import numpy as np
import pytest
import shapely

from sinkload.harmonise import is_one_degree, one_degree_month
from sinkload.normalize import Grid

R = 6_371_000.0


def cea_box(west: float, south: float, east: float, north: float) -> shapely.Polygon:
    """A lon/lat rectangle on the cylindrical equal-area plane, where it is a rectangle too."""
    return shapely.box(R * np.radians(west), R * np.sin(np.radians(south)),
                       R * np.radians(east), R * np.sin(np.radians(north)))


def shapely_one_degree(values: np.ndarray, grid: Grid) -> dict[int, tuple[float, int]]:
    """cell_id -> (overlap-weighted mean of the valid native cells, their number), by polygon intersection."""
    sums: dict[int, list[float]] = {}
    for row in range(grid.ny):
        for col in range(grid.nx):
            if not np.isfinite(values[row, col]):
                continue
            west, north = grid.west + col * grid.dx, grid.north - row * grid.dy
            east, south = west + grid.dx, north - grid.dy
            native = cea_box(west, south, east, north)
            for lon in range(int(np.floor(west)), int(np.ceil(east))):
                for lat in range(int(np.floor(south)), int(np.ceil(north))):
                    if not (-180 <= lon < 180 and -90 <= lat < 90):
                        continue
                    area = native.intersection(cea_box(lon, lat, lon + 1, lat + 1)).area
                    if area > 0:
                        entry = sums.setdefault((lat + 90) * 360 + lon + 180, [0.0, 0.0, 0])
                        entry[0] += float(np.float32(values[row, col])) * area
                        entry[1] += area
                        entry[2] += 1
    return {cell: (total / area, count) for cell, (total, area, count) in sums.items()}


GRIDS = [
    Grid(west=73.0, north=54.0, dx=0.0727, dy=0.0727, nx=47, ny=31),  # BEPS-like, edges off the degrees
    Grid(west=-10.0, north=12.0, dx=0.5, dy=0.5, nx=12, ny=9),  # nests
    Grid(west=100.25, north=30.75, dx=0.25, dy=0.25, nx=10, ny=11),  # 0.25°, edges on quarter degrees
    Grid(west=-179.5, north=-84.5, dx=1.0, dy=1.0, nx=6, ny=5),  # 1° offset by half a degree, 4 cells each
    Grid(west=20.0, north=40.0, dx=2.5, dy=1.5, nx=4, ny=5),  # coarser than 1°
    Grid(west=178.0, north=89.0, dx=0.7, dy=0.6, nx=5, ny=4),  # past the antimeridian: those cells are left out
]


@pytest.mark.parametrize("grid", GRIDS, ids=lambda g: f"{g.dx}x{g.dy}@{g.west},{g.north}")
def test_one_degree_month_equals_polygon_overlaps(grid):
    rng = np.random.default_rng(int(grid.nx * 7 + grid.ny))
    values = rng.normal(5.0, 20.0, size=(grid.ny, grid.nx))
    values[rng.random(values.shape) < 0.2] = np.nan
    month = one_degree_month(values, grid)
    expected = shapely_one_degree(values, grid)
    assert list(month.cell_id) == sorted(expected)
    for cell, value, count in zip(month.cell_id, month.value, month.n_native_cells, strict=True):
        want_value, want_count = expected[int(cell)]
        assert count == want_count
        assert value == pytest.approx(want_value, rel=1e-10, abs=1e-12)  # shapely loses digits near the poles


def test_a_cell_with_no_valid_native_cell_has_no_value():
    grid = Grid(west=0.0, north=2.0, dx=0.5, dy=0.5, nx=4, ny=4)
    values = np.ones((4, 4))
    values[:2, :2] = np.nan  # the 1° cell (lon 0, lat 1) entirely missing
    month = one_degree_month(values, grid)
    assert list(month.cell_id) == sorted([(0 + 90) * 360 + 181, (1 + 90) * 360 + 181, (0 + 90) * 360 + 180])
    assert list(month.n_native_cells) == [4, 4, 4]


def test_one_degree_grids_are_recognised():
    assert is_one_degree(Grid(-180.0, 90.0, 1.0, 1.0, 360, 180))
    assert is_one_degree(Grid(70.0000000001, 55.0, 1.0 + 1e-12, 1.0, 10, 10))
    assert not is_one_degree(Grid(-179.5, 90.0, 1.0, 1.0, 360, 180))
    assert not is_one_degree(Grid(-180.0, 90.0, 0.5, 0.5, 720, 360))


def test_dbt_reads_the_version_the_loader_writes():
    import yaml

    from sinkload.harmonise import HARMONISATION_VERSION
    from sinkload.settings import Settings

    project = yaml.safe_load((Settings.from_env().dbt_project_dir / "dbt_project.yml").read_text())
    assert project["vars"]["harmonisation_version"] == HARMONISATION_VERSION
