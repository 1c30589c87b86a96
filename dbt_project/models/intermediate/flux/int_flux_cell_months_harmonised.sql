{#- Incremental (macros/incremental.sql, docs/architecture.md): the pre-hooks delete the rows of (product, member,
    month) whose stored content (digest) changed or left raw (and every row when the analysis cells, the
    harmonisation's definition or this SQL changed), write the keys without rows to a keys table, and refuse
    to go on when a key's 1° harmonisation is missing from raw (harmonisation_check); the model computes those
    keys, appended. Indexed on written_by_build: its tests read the rows written since the last publication. -#}
{{ config(**incremental_config('harmonisation_raw_keys', ['product_id', 'member_id', 'month'],
                               'harmonisation_fingerprint', indexes=[['written_by_build']],
                               checks=['harmonisation_check'])) }}

{#- Every product on the 1° analysis grid: a 1° cell's monthly value is the overlap-area-weighted mean of the
    valid native cells under it (missing cells skipped); no row when none is valid. The loader computed it for
    every grid that is not the 1° grid itself (src/sinkload/harmonise.py, the one definition; stored in
    raw.flux_month_1deg for the 1° cells of the globe), so here it is only kept for the analysis cells. A grid
    that is the 1° grid is read from its tiles: each native cell is a 1° cell, its value the mean of one. -#}

with analysis_cells as (
    select cell_id, west, south from {{ ref('int_analysis_cells') }}
),

keys_to_build as (
    {{ keys_to_build() }}
),

harmonised_at_the_door as (
    select
        keys_to_build.product_id,
        keys_to_build.member_id,
        keys_to_build.month,
        keys_to_build.source_version,
        cells.cell_id,
        cells.sink_gc_m2,
        cells.n_native_cells
    from keys_to_build
    inner join {{ ref('stg_raw__flux_months_1deg') }} as months
        on months.member_id = keys_to_build.member_id
        and months.month = keys_to_build.month
        and months.month_version = keys_to_build.source_version
        and months.harmonisation_version = '{{ var("harmonisation_version") }}'
    cross join lateral unnest(months.cell_id, months.sink_gc_m2, months.n_native_cells)
        as cells (cell_id, sink_gc_m2, n_native_cells)
),

analysis_extent as (
    select
        min(west) as west,
        max(west) + 1 as east,
        min(south) as south,
        max(south) + 1 as north,
        st_makeenvelope(min(west), min(south), max(west) + 1, max(south) + 1, 4326) as geom
    from analysis_cells
),

one_degree_grids as (
    select grid_id, west, north, dx, dy from {{ ref('stg_raw__grids') }} as grids where {{ is_one_degree_grid('grids') }}
),

{#- The window of each tile over the analysis extent (1-based array subscripts, clamped to the tile): only
    those pixels are unnested. materialized: each raster is read (detoasted) once. -#}
one_degree_tiles as materialized (
    select
        tiles.product_id,
        tiles.member_id,
        tiles.month,
        keys_to_build.source_version,
        round(grids.west)::integer + tiles.col0 + tile_window.j_first - 1 as lon_first,
        round(grids.north)::integer - tiles.row0 - tile_window.i_first as lat_first,
        tile_window.j_last - tile_window.j_first + 1 as window_width,
        (st_dumpvalues(tiles.rast, 1))[tile_window.i_first:tile_window.i_last][tile_window.j_first:tile_window.j_last]
            as window_values
    from {{ ref('stg_raw__flux_tiles') }} as tiles
    inner join keys_to_build
        on tiles.product_id = keys_to_build.product_id
        and tiles.member_id = keys_to_build.member_id
        and tiles.month = keys_to_build.month
    inner join one_degree_grids as grids on tiles.grid_id = grids.grid_id
    cross join analysis_extent
    cross join lateral (
        select
            greatest(1, floor((analysis_extent.west - grids.west) / grids.dx)::integer - tiles.col0 + 1) as j_first,
            least(st_width(tiles.rast),
                  ceil((analysis_extent.east - grids.west) / grids.dx)::integer - tiles.col0) as j_last,
            greatest(1, floor((grids.north - analysis_extent.north) / grids.dy)::integer - tiles.row0 + 1) as i_first,
            least(st_height(tiles.rast),
                  ceil((grids.north - analysis_extent.south) / grids.dy)::integer - tiles.row0) as i_last
    ) as tile_window
    where st_convexhull(tiles.rast) && analysis_extent.geom
        and tile_window.j_first <= tile_window.j_last and tile_window.i_first <= tile_window.i_last
),

{#- pixel k (1-based, row-major in the window) is the 1° cell whose south-west corner is
    (lon_first + (k - 1) % width, lat_first - (k - 1) / width) -#}
one_degree_cells as (
    select
        one_degree_tiles.product_id,
        one_degree_tiles.member_id,
        one_degree_tiles.month,
        one_degree_tiles.source_version,
        (one_degree_tiles.lat_first - ((pixel.k - 1) / one_degree_tiles.window_width)::integer + 90) * 360
            + one_degree_tiles.lon_first + ((pixel.k - 1) % one_degree_tiles.window_width)::integer + 180 as cell_id,
        pixel.value::double precision as sink_gc_m2,
        1 as n_native_cells
    from one_degree_tiles
    cross join lateral unnest(one_degree_tiles.window_values) with ordinality as pixel (value, k)
    where pixel.value is not null
),

harmonised as (
    select product_id, member_id, month, cell_id, sink_gc_m2, n_native_cells::bigint as n_native_cells, source_version
    from harmonised_at_the_door
    union all
    select product_id, member_id, month, cell_id, sink_gc_m2, n_native_cells::bigint, source_version
    from one_degree_cells
),

{#- Whether each 1° cell of the globe (cell_id + 1) is an analysis cell: the harmonised cells are kept by one
    array look-up each, whatever the planner estimates (a semi-join of the unnested pixels with the analysis
    cells, estimated at a few rows, was planned as a nested loop that unnested every tile once per cell). -#}
analysis_cell_mask as (
    select array_agg(analysis_cells.cell_id is not null order by globe.cell_id) as is_analysis_cell
    from generate_series(0, 360 * 180 - 1) as globe (cell_id)
    left join analysis_cells on analysis_cells.cell_id = globe.cell_id
)

select harmonised.*, {{ harmonisation_fingerprint() }} as inputs_fingerprint, {{ current_build_id() }} as written_by_build
from harmonised
where (select is_analysis_cell from analysis_cell_mask)[harmonised.cell_id + 1]
