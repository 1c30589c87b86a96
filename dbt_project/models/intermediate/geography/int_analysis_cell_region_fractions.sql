{{ config(post_hook=["create index on {{ this }} (cell_id)", "analyze {{ this }}"]) }}

{#- The exact share of each 1° cell inside each region unit, measured on the sphere's equal-area
    projection: a cell covered by one piece counts whole, border cells by the area of their intersection. -#}

with cells as (
    select cell_id, area_m2, geom_cea from {{ ref('int_analysis_grid_candidates') }}
),

pieces as (
    select scope, unit, geom_cea from {{ ref('int_region_pieces_subdivided') }}
),

cell_overlaps as (
    select
        cells.cell_id,
        pieces.scope,
        pieces.unit,
        case
            when st_covers(pieces.geom_cea, cells.geom_cea) then st_area(cells.geom_cea)
            else st_area(st_intersection(pieces.geom_cea, cells.geom_cea))
        end as overlap_m2
    from cells
    inner join pieces on pieces.geom_cea && cells.geom_cea
),

final as (
    select
        cell_overlaps.cell_id,
        cell_overlaps.scope,
        cell_overlaps.unit,
        sum(cell_overlaps.overlap_m2) / cells.area_m2 as fraction,
        sum(cell_overlaps.overlap_m2) as area_m2
    from cell_overlaps
    inner join cells on cell_overlaps.cell_id = cells.cell_id
    group by cell_overlaps.cell_id, cell_overlaps.scope, cell_overlaps.unit, cells.area_m2
    having sum(cell_overlaps.overlap_m2) > 0
)

select * from final
