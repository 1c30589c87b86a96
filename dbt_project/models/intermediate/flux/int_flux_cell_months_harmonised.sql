{#- The planner cannot estimate the pixels unnested from each tile (it guesses 10 per tile, there are
    thousands), so left alone it probes the overlap index once per pixel and sorts on disk. One hash join
    and one hash aggregate are several times faster (benchmarks/results/build.md); these settings last for
    this model's transaction only.
    Incremental (macros/incremental.sql, docs/architecture.md): the pre-hook deletes the rows of (product, member, month) whose
    stored content (digest) changed or left raw (and every row when the geography or this SQL changed); the model then
    harmonises the (product, member, month) of the period that have no rows, appended (none of them has rows
    left). Indexed on written_by_build: its tests read the rows written since the last publication. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    pre_hook=["set local work_mem = '512MB'", "set local enable_nestloop = off", "set local enable_sort = off",
              "{{ harmonisation_overlaps_function() }}",
              "{{ incremental_forget_stale(harmonisation_raw_keys(), ['product_id', 'member_id', 'month'],
                                           harmonisation_fingerprint()) }}"],
    post_hook=["{{ incremental_index(['product_id', 'member_id', 'month', 'source_version']) }}",
               "{{ incremental_index(['written_by_build']) }}", "{{ analyze_when_rewritten() }}"]
) }}

{#- Every product on the 1° analysis grid: a 1° cell's monthly value is the overlap-area-weighted mean of
    the valid native cells under it (missing cells skipped); no row when none is valid. A native grid that
    nests in the 1° grid (1/dx and 1/dy whole numbers, edges on whole degrees: 1°, 0.5°, 0.25°) maps each
    pixel to the 1° cell under its centre by arithmetic, weighted by the pixel's own spherical area
    R² Δλ (sin φn − sin φs); any other grid (e.g. BEPS's 0.0727°) goes through
    int_native_to_analysis_overlaps. -#}

-- depends_on: {{ ref('int_native_to_analysis_overlaps') }}

with analysis_cells as (
    select cell_id, west, south from {{ ref('int_analysis_cells') }}
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

grids as (
    select
        grid_id,
        west,
        north,
        dx,
        dy,
        abs(1 / dx - round(1 / dx)) < 1e-9 and abs(1 / dy - round(1 / dy)) < 1e-9
            and abs(west / dx - round(west / dx)) < 1e-6 and abs(north / dy - round(north / dy)) < 1e-6 as nests
    from {{ ref('stg_raw__grids') }}
),

keys_to_build as (
    {{ incremental_keys_to_build(harmonisation_raw_keys(), ['product_id', 'member_id', 'month']) }}
),

{#- The window of each tile over the analysis extent (1-based array subscripts, clamped to the tile): only
    those pixels are unnested. materialized: each raster is read (detoasted) once. -#}
tiles as materialized (
    select
        tiles.product_id,
        tiles.member_id,
        tiles.month,
        keys_to_build.source_version,
        tiles.grid_id,
        grids.nests,
        grids.west,
        grids.north,
        grids.dx,
        grids.dy,
        tiles.col0 + tile_window.j_first - 1 as col_first,
        tiles.row0 + tile_window.i_first - 1 as row_first,
        tile_window.j_last - tile_window.j_first + 1 as window_width,
        (st_dumpvalues(tiles.rast, 1))[tile_window.i_first:tile_window.i_last][tile_window.j_first:tile_window.j_last]
            as window_values
    from {{ ref('stg_raw__flux_tiles') }} as tiles
    inner join keys_to_build
        on tiles.product_id = keys_to_build.product_id
        and tiles.member_id = keys_to_build.member_id
        and tiles.month = keys_to_build.month
    inner join grids on tiles.grid_id = grids.grid_id
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

{#- not materialized: each branch below streams the pixels of its own grids -#}
native_values as not materialized (
    select
        tiles.product_id,
        tiles.member_id,
        tiles.month,
        tiles.source_version,
        tiles.grid_id,
        tiles.nests,
        tiles.west,
        tiles.north,
        tiles.dx,
        tiles.dy,
        tiles.col_first + ((pixel.k - 1) % tiles.window_width)::integer as col,
        tiles.row_first + ((pixel.k - 1) / tiles.window_width)::integer as row,
        pixel.value as sink_gc_m2
    from tiles
    cross join lateral unnest(tiles.window_values) with ordinality as pixel (value, k)
    where pixel.value is not null
),

{#- the pixel's centre in float8 (an integer plus 0.5 exactly; numeric arithmetic here costs seconds) -#}
nested_weights as (
    select
        product_id,
        member_id,
        month,
        source_version,
        (floor(north - (row + 0.5::float8) * dy)::integer + 90) * 360
            + (floor(west + (col + 0.5::float8) * dx)::integer + 180) as cell_id,
        sink_gc_m2,
        {{ cea_x('dx') }} * ({{ cea_y('north - row * dy') }} - {{ cea_y('north - (row + 1) * dy') }}) as overlap_m2
    from native_values
    where nests
),

nested as (
    select nested_weights.*
    from nested_weights
    where exists (select 1 from analysis_cells where analysis_cells.cell_id = nested_weights.cell_id)
),

{#- The planner estimates 10 pixels per tile (there are thousands): joined as a table it would hash the
    pixels rather than the overlaps. Through this function (estimated at one row) the overlaps are hashed. -#}
overlapped as (
    select
        native_values.product_id,
        native_values.member_id,
        native_values.month,
        native_values.source_version,
        native_overlaps.cell_id,
        native_values.sink_gc_m2,
        native_overlaps.overlap_m2
    from native_values
    inner join {{ this.schema }}.harmonisation_overlaps() as native_overlaps
        on native_values.grid_id = native_overlaps.grid_id
        and native_values.col = native_overlaps.col
        and native_values.row = native_overlaps.row
    where not native_values.nests
),

weighted as (
    select * from nested
    union all
    select * from overlapped
),

harmonised as (
    select
        product_id,
        member_id,
        month,
        cell_id,
        sum(sink_gc_m2 * overlap_m2) / sum(overlap_m2) as sink_gc_m2,
        count(*) as n_native_cells,
        source_version
    from weighted
    group by product_id, member_id, month, source_version, cell_id
)

select harmonised.*, {{ harmonisation_fingerprint() }} as inputs_fingerprint, {{ current_build_id() }} as written_by_build
from harmonised
