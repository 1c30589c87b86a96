{{ config(post_hook=["create index on {{ this }} (cell_id)", "analyze {{ this }}"]) }}

{#- How much of each 1° cell counts in each unit, in m^2 of the sphere (R = var earth_radius_m):
    region units (every layer) by the cell's exact area share inside the unit's polygon and the national
    layer (int_analysis_cell_unit_fractions_clipped);
    ecosystem units are the cells whose dominant land-cover class is that ecosystem, each weighted by
    its share inside the national boundary. -#}

with region_fractions as (
    select cell_id, scope, unit, fraction, area_m2
    from {{ ref('int_analysis_cell_unit_fractions_clipped') }}
),

cells as (
    select cell_id, lon, lat, geom from {{ ref('int_analysis_cells') }}
),

dominant_classes as (
    select cell_id, class
    from {{ ref('int_landcover_cell_classes') }}
    where is_ecosystem
),

regions as (
    select scope, unit, cell_id, fraction, area_m2 as weight_m2
    from region_fractions
),

ecosystems as (
    select
        'ecosystem' as scope,
        dominant_classes.class as unit,
        region_fractions.cell_id,
        region_fractions.fraction,
        region_fractions.area_m2 as weight_m2
    from region_fractions
    inner join dominant_classes on region_fractions.cell_id = dominant_classes.cell_id
    where region_fractions.scope = 'national'
),

weights as (
    select scope, unit, cell_id, fraction, weight_m2 from regions
    union all
    select scope, unit, cell_id, fraction, weight_m2 from ecosystems
),

final as (
    select
        weights.scope,
        weights.unit,
        weights.cell_id,
        weights.weight_m2,
        cells.lon,
        cells.lat,
        weights.fraction,
        cells.geom,
        'sphere R={{ var("earth_radius_m") }} m' as earth_model
    from weights
    inner join cells on weights.cell_id = cells.cell_id
)

select * from final
