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

-- where two units of a layer overlap (pieces of one unit never overlap each other); materialised once,
-- not re-evaluated for every national piece
unit_overlaps as materialized (
    select
        first_piece.scope,
        first_piece.unit as first_unit,
        second_piece.unit as second_unit,
        st_intersection(first_piece.geom_cea, second_piece.geom_cea) as geom_cea
    from {{ pieces }} as first_piece
    inner join {{ pieces }} as second_piece
        on first_piece.scope = second_piece.scope
        and first_piece.unit < second_piece.unit
        and first_piece.geom_cea && second_piece.geom_cea
        and st_relate(first_piece.geom_cea, second_piece.geom_cea, '2********')
    where first_piece.scope <> 'national'
),

-- the national pieces that meet an overlap of the layer (found through the pieces' spatial index, rather than
-- by scanning the overlaps once per national piece): only those can be covered twice
overlapped_national_pieces as (
    select distinct unit_overlaps.scope, nation.piece_id
    from unit_overlaps
    inner join {{ pieces }} as nation
        on nation.scope = 'national' and nation.geom_cea && unit_overlaps.geom_cea
),

multiply_covered as (
    select
        overlapped.scope,
        sum(coalesce(st_area(st_intersection(nation.geom_cea, overlapping.geom_cea)), 0)) as area_m2
    from overlapped_national_pieces as overlapped
    inner join {{ pieces }} as nation on overlapped.piece_id = nation.piece_id
    inner join lateral (
        select st_union(unit_overlaps.geom_cea) as geom_cea
        from unit_overlaps
        where unit_overlaps.scope = overlapped.scope and unit_overlaps.geom_cea && nation.geom_cea
    ) as overlapping on overlapping.geom_cea is not null
    group by overlapped.scope
),

-- the units' parts outside the national layer
outside_areas as (
    select scope, sum(st_area(geom_cea)) as area_m2
    from {{ ref('int_region_pieces_outside_nation') }}
    group by scope
),

-- layers where a point lies in three units or more: two overlaps of different pairs of units overlap
triply_covered_layers as (
    select distinct first_overlap.scope
    from unit_overlaps as first_overlap
    inner join unit_overlaps as second_overlap
        on first_overlap.scope = second_overlap.scope
        and (first_overlap.first_unit, first_overlap.second_unit) < (second_overlap.first_unit, second_overlap.second_unit)
        and first_overlap.geom_cea && second_overlap.geom_cea
        and st_relate(first_overlap.geom_cea, second_overlap.geom_cea, '2********')
),

-- the nation's area no unit covers. Where no point lies in three units, by inclusion-exclusion: the nation less
-- the units' areas inside it, plus the area covered twice (counted twice in that sum); to the rounding of a sum
-- of areas (about 1e-7 km² on a country), at a fraction of the cost of the exact difference below
uncovered_by_sum as (
    select
        layers.scope,
        greatest(national_area.area_m2 - (units.area_m2 - coalesce(outside_areas.area_m2, 0))
                 + coalesce(multiply_covered.area_m2, 0), 0) as area_m2
    from layers
    cross join national_area
    inner join (select scope, sum(st_area(geom_cea)) as area_m2 from unit_pieces group by scope) as units
        on layers.scope = units.scope
    left join outside_areas on layers.scope = outside_areas.scope
    left join multiply_covered on layers.scope = multiply_covered.scope
    where layers.scope not in (select scope from triply_covered_layers)
),

-- elsewhere exactly: the part of each national piece that no unit of the layer covers
uncovered_exactly as (
    select
        layers.scope,
        sum({{ area_not_covered('national_pieces.geom_cea', pieces, 'p.scope = layers.scope') }}) as area_m2
    from layers
    inner join triply_covered_layers on layers.scope = triply_covered_layers.scope
    cross join national_pieces
    group by layers.scope
),

uncovered as (
    select scope, area_m2 from uncovered_by_sum
    union all
    select scope, area_m2 from uncovered_exactly
),

outside as (
    select
        unit_pieces.scope,
        count(distinct unit_pieces.unit) as n_units,
        coalesce(max(outside_areas.area_m2), 0) as area_m2
    from unit_pieces
    left join outside_areas on unit_pieces.scope = outside_areas.scope
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
