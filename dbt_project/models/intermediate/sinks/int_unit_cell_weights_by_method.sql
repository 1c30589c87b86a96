{{ config(post_hook=["create index on {{ this }} (cell_id)", "analyze {{ this }}"]) }}

{#- The weights of every unit under each method that marts.method_comparison sets side by side (m^2 of the
    sphere):
    - exact_overlap: the warehouse's own weights (int_unit_cell_weights), the reference;
    - cell_centre: a cell counts whole in a unit when its centre lies in the unit's polygon (ecosystem units:
      in the national layer), as most scripts' masks do;
    - group_first / merge_first (ecosystems): the cells whose dominant class under that rule is the
      ecosystem, weighted by their share inside the national layer;
    - class_fraction (ecosystems): every cell, weighted by its share inside the national layer x the
      class's share of the cell. -#}

with reference as (
    select scope, unit, cell_id, weight_m2 from {{ ref('int_unit_cell_weights') }}
),

cells as (
    select cell_id, lon, lat, area_m2 from {{ ref('int_analysis_cells') }}
),

national as (
    select cell_id, area_m2 from {{ ref('int_analysis_cell_region_fractions') }} where scope = 'national'
),

dominants as (
    select rule, cell_id, class from {{ ref('int_landcover_cell_dominants') }} where is_ecosystem
),

ecosystems as (
    select distinct class from {{ ref('stg_raw__landcover_classes') }} where is_ecosystem
),

class_fractions as (
    select cell_id, class, fraction from {{ ref('int_landcover_cell_class_fractions') }}
),

centres as (
    select cell_id, area_m2, st_setsrid(st_makepoint({{ cea_x('lon') }}, {{ cea_y('lat') }}), 990001) as centre
    from cells
),

centre_units as (
    select distinct pieces.scope, pieces.unit, centres.cell_id, centres.area_m2 as weight_m2
    from centres
    inner join {{ ref('int_region_pieces_subdivided') }} as pieces
        on pieces.geom_cea && centres.centre and st_covers(pieces.geom_cea, centres.centre)
),

final as (
    select 'exact_overlap' as method, scope, unit, cell_id, weight_m2 from reference
    union all
    select 'cell_centre', scope, unit, cell_id, weight_m2 from centre_units
    union all
    select 'cell_centre', 'ecosystem', reference.unit, reference.cell_id, centre_units.weight_m2
    from reference
    inner join centre_units on reference.cell_id = centre_units.cell_id and centre_units.scope = 'national'
    where reference.scope = 'ecosystem'
    union all
    select dominants.rule, 'ecosystem', dominants.class, national.cell_id, national.area_m2
    from dominants
    inner join national on dominants.cell_id = national.cell_id
    union all
    select 'class_fraction', 'ecosystem', class_fractions.class, national.cell_id,
        national.area_m2 * class_fractions.fraction
    from class_fractions
    inner join ecosystems on class_fractions.class = ecosystems.class
    inner join national on class_fractions.cell_id = national.cell_id
)

select * from final
