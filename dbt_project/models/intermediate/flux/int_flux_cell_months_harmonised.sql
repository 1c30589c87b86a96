{#- The planner cannot estimate the pixels unnested from each tile (it guesses 10 per tile, there are
    thousands), so left alone it probes the overlap index once per pixel and sorts on disk. One hash join
    and one hash aggregate are several times faster (benchmarks/results/build.md); these settings last for
    this model's transaction only. -#}
{{ config(
    pre_hook=["set local work_mem = '512MB'", "set local enable_nestloop = off", "set local enable_sort = off"],
    post_hook=["create index on {{ this }} (product_id, member_id, month)", "analyze {{ this }}"]
) }}

{#- Every product on the 1° analysis grid: a 1° cell's monthly value is the overlap-area-weighted mean of
    the valid native cells under it (missing cells skipped); no row when none is valid. -#}

with analysis_extent as (
    select st_setsrid(st_extent(geom)::geometry, 4326) as geom
    from {{ ref('int_analysis_cells') }}
),

{#- materialized: each raster is read (detoasted) once for its width and values, not once per pixel -#}
tiles as materialized (
    select
        tiles.product_id,
        tiles.member_id,
        tiles.month,
        tiles.grid_id,
        tiles.col0,
        tiles.row0,
        st_width(tiles.rast) as tile_width,
        st_dumpvalues(tiles.rast, 1) as tile_values
    from {{ ref('stg_raw__flux_tiles') }} as tiles
    cross join analysis_extent
    where st_convexhull(tiles.rast) && analysis_extent.geom
        and tiles.month between {{ period_first_month() }} and {{ period_last_month() }}
),

native_values as (
    select
        tiles.product_id,
        tiles.member_id,
        tiles.month,
        tiles.grid_id,
        tiles.col0 + ((pixel.k - 1) % tiles.tile_width)::integer as col,
        tiles.row0 + ((pixel.k - 1) / tiles.tile_width)::integer as row,
        pixel.value as sink_gc_m2
    from tiles
    cross join lateral unnest(tiles.tile_values) with ordinality as pixel (value, k)
    where pixel.value is not null
),

native_overlaps as (
    select grid_id, col, row, cell_id, overlap_m2
    from {{ ref('int_native_to_analysis_overlaps') }}
),

harmonised as (
    select
        native_values.product_id,
        native_values.member_id,
        native_values.month,
        native_overlaps.cell_id,
        sum(native_values.sink_gc_m2 * native_overlaps.overlap_m2) / sum(native_overlaps.overlap_m2) as sink_gc_m2,
        count(*) as n_native_cells
    from native_values
    inner join native_overlaps
        on native_values.grid_id = native_overlaps.grid_id
        and native_values.col = native_overlaps.col
        and native_values.row = native_overlaps.row
    group by 1, 2, 3, 4
)

select * from harmonised
