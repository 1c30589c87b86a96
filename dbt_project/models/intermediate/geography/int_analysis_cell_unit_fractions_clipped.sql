{{ config(post_hook=["create index on {{ this }} (cell_id)", "analyze {{ this }}"]) }}

{#- The share of each 1° analysis cell inside each region unit and inside the national layer. The sinks are
    the nation's land: the part of a unit outside it (a basin across the border, a datum shift's sliver along
    it) counts for nothing, as for the ecosystems, and so a layer that tiles the nation adds up to it. A unit's
    share of a cell is int_analysis_cell_region_fractions' less the cell's part of the unit's pieces outside
    the nation (int_region_pieces_outside_nation: few and small, most units have none). National rows are the
    national fractions. -#}

with cells as (
    select cell_id, area_m2, geom_cea from {{ ref('int_analysis_cells') }}
),

fractions as (
    select cell_id, scope, unit, area_m2 from {{ ref('int_analysis_cell_region_fractions') }}
),

outside_pieces as (
    select scope, unit, geom_cea from {{ ref('int_region_pieces_outside_nation') }}
),

outside_areas as (
    select
        cells.cell_id,
        outside_pieces.scope,
        outside_pieces.unit,
        sum(st_area(st_intersection(outside_pieces.geom_cea, cells.geom_cea))) as area_m2
    from outside_pieces
    inner join cells on outside_pieces.geom_cea && cells.geom_cea
    group by cells.cell_id, outside_pieces.scope, outside_pieces.unit
),

clipped as (
    select
        fractions.cell_id,
        fractions.scope,
        fractions.unit,
        fractions.area_m2 as unclipped_m2,
        fractions.area_m2 - coalesce(outside_areas.area_m2, 0) as area_m2
    from fractions
    left join outside_areas
        on fractions.cell_id = outside_areas.cell_id
        and fractions.scope = outside_areas.scope
        and fractions.unit = outside_areas.unit
),

final as (
    select clipped.cell_id, clipped.scope, clipped.unit, clipped.area_m2 / cells.area_m2 as fraction, clipped.area_m2
    from clipped
    inner join cells on clipped.cell_id = cells.cell_id
    -- what a subtraction leaves of a part wholly outside is rounding, not area
    where clipped.area_m2 > 1e-9 * clipped.unclipped_m2
)

select cell_id, scope, unit, fraction, area_m2 from final
