{{ config(post_hook=["create unique index on {{ this }} (cell_id)", "analyze {{ this }}"]) }}

{#- The 1° analysis grid: the cells that overlap the national layer. -#}

with candidates as (
    select * from {{ ref('int_analysis_grid_candidates') }}
),

national_cells as (
    select cell_id from {{ ref('int_analysis_cell_region_fractions') }} where scope = 'national'
),

final as (
    select
        candidates.cell_id,
        candidates.lon,
        candidates.lat,
        candidates.west,
        candidates.east,
        candidates.south,
        candidates.north,
        candidates.area_m2,
        candidates.geom,
        candidates.geom_cea
    from candidates
    inner join national_cells on candidates.cell_id = national_cells.cell_id
)

select * from final
