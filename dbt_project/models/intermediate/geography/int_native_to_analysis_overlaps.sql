{#- Rebuilt only when the native grids, the analysis cells or this SQL change (macros/incremental.sql
    rebuild_on_change_config), not with every flux change that selects it. Its tests check the rows written
    since the last publication (written_by_build, indexed): none when it was not rebuilt. -#}
{{ config(**rebuild_on_change_config('overlaps_fingerprint',
                                     indexes=[['grid_id', 'col', 'row'], ['written_by_build']])) }}

{#- For every native grid, the spherical area (m^2) shared by each native cell and each 1° analysis cell.
    Both are lon/lat rectangles, so the overlap is a rectangle too: R^2 * dlon * (sin north - sin south).
    Native column and row overlaps are found separately (generate_series arithmetic, no geometry), then
    paired. Native cell (col, row) spans lon west + col*dx .. +dx, lat north - (row+1)*dy .. north - row*dy. -#}

with grids as (
    select grid_id, west, north, dx, dy, nx, ny from {{ ref('stg_raw__grids') }}
),

analysis as (
    select cell_id, west, south from {{ ref('int_analysis_cells') }}
),

extent as (
    select min(west) as west, max(west) + 1 as east, min(south) as south, max(south) + 1 as north from analysis
),

native_columns as (
    select grids.grid_id, col, grids.west + col * grids.dx as cell_west, grids.west + (col + 1) * grids.dx as cell_east
    from grids
    cross join extent
    cross join lateral generate_series(
        greatest(0, floor((extent.west - grids.west) / grids.dx)::integer),
        least(grids.nx - 1, ceil((extent.east - grids.west) / grids.dx)::integer)
    ) as col
),

native_rows as (
    select grids.grid_id, row, grids.north - (row + 1) * grids.dy as cell_south, grids.north - row * grids.dy as cell_north
    from grids
    cross join extent
    cross join lateral generate_series(
        greatest(0, floor((grids.north - extent.north) / grids.dy)::integer),
        least(grids.ny - 1, ceil((grids.north - extent.south) / grids.dy)::integer)
    ) as row
),

column_overlaps as (
    select
        native_columns.grid_id,
        native_columns.col,
        lon_west,
        least(native_columns.cell_east, lon_west + 1) - greatest(native_columns.cell_west, lon_west) as dlon_deg
    from native_columns
    cross join lateral generate_series(floor(native_columns.cell_west)::integer,
                                       ceil(native_columns.cell_east)::integer - 1) as lon_west
),

row_overlaps as (
    select
        native_rows.grid_id,
        native_rows.row,
        lat_south,
        {{ cea_y('least(native_rows.cell_north, lat_south + 1)') }}
            - {{ cea_y('greatest(native_rows.cell_south, lat_south)') }} as dy_cea
    from native_rows
    cross join lateral generate_series(floor(native_rows.cell_south)::integer,
                                       ceil(native_rows.cell_north)::integer - 1) as lat_south
),

pairs as (
    select
        column_overlaps.grid_id,
        column_overlaps.col,
        row_overlaps.row,
        (row_overlaps.lat_south + 90) * 360 + (column_overlaps.lon_west + 180) as cell_id,
        {{ cea_x('column_overlaps.dlon_deg') }} * row_overlaps.dy_cea as overlap_m2
    from column_overlaps
    inner join row_overlaps on column_overlaps.grid_id = row_overlaps.grid_id
    where column_overlaps.dlon_deg > 0 and row_overlaps.dy_cea > 0
),

final as (
    select pairs.grid_id, pairs.col, pairs.row, pairs.cell_id, pairs.overlap_m2
    from pairs
    inner join analysis on pairs.cell_id = analysis.cell_id
    where {{ rebuild_on_change() }}
)

select final.*, {{ overlaps_fingerprint() }} as inputs_fingerprint, {{ current_build_id() }} as written_by_build
from final
