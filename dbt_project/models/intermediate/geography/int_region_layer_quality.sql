{#- Per region layer (every scope but national): how its units cover the national layer, measured exactly
    on the sphere's equal-area projection, in km^2 of the sphere (R = var earth_radius_m). Computed piece by
    piece on the subdivided polygons (each piece against the few pieces its box meets), never on whole
    country-sized polygons. -#}

{#- The pieces are read from the table each time (never through a CTE used twice, which PostgreSQL
    materialises without the table's spatial index). -#}
{%- set pieces = ref('int_region_pieces_subdivided') %}

with layers as (
    select scope, tiles_national from {{ ref('stg_raw__region_layers') }} where scope <> 'national'
),

national_pieces as (
    select geom_cea from {{ pieces }} where scope = 'national'
),

unit_pieces as (
    select scope, unit, geom_cea from {{ pieces }} where scope <> 'national'
),

national_area as (
    select sum(st_area(geom_cea)) as area_m2 from national_pieces
),

-- the part of each national piece that no unit of the layer covers
uncovered as (
    select
        layers.scope,
        sum(st_area(
            case
                when covering.geom_cea is null then national_pieces.geom_cea
                else st_difference(national_pieces.geom_cea, covering.geom_cea)
            end
        )) as area_m2
    from layers
    cross join national_pieces
    left join lateral (
        select st_union(covering_pieces.geom_cea) as geom_cea
        from {{ pieces }} as covering_pieces
        where covering_pieces.scope = layers.scope and covering_pieces.geom_cea && national_pieces.geom_cea
    ) as covering on true
    group by layers.scope
),

-- where two units of a layer overlap (pieces of one unit never overlap each other); materialised once,
-- not re-evaluated for every national piece
unit_overlaps as materialized (
    select
        first_piece.scope,
        st_intersection(first_piece.geom_cea, second_piece.geom_cea) as geom_cea
    from {{ pieces }} as first_piece
    inner join {{ pieces }} as second_piece
        on first_piece.scope = second_piece.scope
        and first_piece.unit < second_piece.unit
        and first_piece.geom_cea && second_piece.geom_cea
        and st_relate(first_piece.geom_cea, second_piece.geom_cea, '2********')
    where first_piece.scope <> 'national'
),

multiply_covered as (
    select
        layers.scope,
        sum(coalesce(st_area(st_intersection(national_pieces.geom_cea, overlapping.geom_cea)), 0)) as area_m2
    from layers
    cross join national_pieces
    inner join lateral (
        select st_union(unit_overlaps.geom_cea) as geom_cea
        from unit_overlaps
        where unit_overlaps.scope = layers.scope and unit_overlaps.geom_cea && national_pieces.geom_cea
    ) as overlapping on overlapping.geom_cea is not null
    group by layers.scope
),

-- the part of each unit piece outside the national layer
outside as (
    select
        unit_pieces.scope,
        count(distinct unit_pieces.unit) as n_units,
        sum(st_area(
            case
                when national.geom_cea is null then unit_pieces.geom_cea
                else st_difference(unit_pieces.geom_cea, national.geom_cea)
            end
        )) as area_m2
    from unit_pieces
    left join lateral (
        select st_union(nation.geom_cea) as geom_cea
        from {{ pieces }} as nation
        where nation.scope = 'national' and nation.geom_cea && unit_pieces.geom_cea
    ) as national on true
    group by unit_pieces.scope
),

final as (
    select
        layers.scope,
        outside.n_units,
        layers.tiles_national,
        national_area.area_m2 / 1e6 as national_area_km2,
        coalesce(uncovered.area_m2, 0) / 1e6 as uncovered_km2,
        coalesce(multiply_covered.area_m2, 0) / 1e6 as multiply_covered_km2,
        outside.area_m2 / 1e6 as outside_national_km2
    from layers
    inner join outside on layers.scope = outside.scope
    cross join national_area
    left join uncovered on layers.scope = uncovered.scope
    left join multiply_covered on layers.scope = multiply_covered.scope
)

select * from final
