{#- Area (m^2 of the sphere) and share of each land-cover class in each 1° analysis cell: the sum over the
    vegetation groups that map to the class. -#}

with group_areas as (
    select cell_id, code, area_m2 from {{ ref('int_landcover_cell_group_fractions') }}
),

classes as (
    select code, class from {{ ref('stg_raw__landcover_classes') }}
),

cells as (
    select cell_id, area_m2 from {{ ref('int_analysis_cells') }}
),

final as (
    select
        group_areas.cell_id,
        classes.class,
        sum(group_areas.area_m2) as area_m2,
        sum(group_areas.area_m2) / cells.area_m2 as fraction
    from group_areas
    inner join classes on group_areas.code = classes.code
    inner join cells on group_areas.cell_id = cells.cell_id
    group by group_areas.cell_id, classes.class, cells.area_m2
)

select * from final
