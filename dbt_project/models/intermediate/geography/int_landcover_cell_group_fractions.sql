{{ config(post_hook=["create index on {{ this }} (cell_id)", "analyze {{ this }}"]) }}

{#- Area (m^2 of the sphere) and share of each vegetation group (the map's own code) in each 1° analysis
    cell. -#}

with cells as (
    select cell_id, area_m2, geom_cea from {{ ref('int_analysis_cells') }}
),

pieces as (
    select code, geom_cea from {{ ref('int_landcover_pieces_subdivided') }}
),

cell_overlaps as (
    select
        cells.cell_id,
        pieces.code,
        case
            when st_covers(pieces.geom_cea, cells.geom_cea) then st_area(cells.geom_cea)
            else st_area(st_intersection(pieces.geom_cea, cells.geom_cea))
        end as area_m2
    from cells
    inner join pieces on pieces.geom_cea && cells.geom_cea
),

final as (
    select
        cell_overlaps.cell_id,
        cell_overlaps.code,
        sum(cell_overlaps.area_m2) as area_m2,
        sum(cell_overlaps.area_m2) / cells.area_m2 as fraction
    from cell_overlaps
    inner join cells on cell_overlaps.cell_id = cells.cell_id
    group by cell_overlaps.cell_id, cell_overlaps.code, cells.area_m2
    having sum(cell_overlaps.area_m2) > 0
)

select * from final
