{{ config(post_hook=["create unique index on {{ this }} (cell_id)"]) }}

{#- The dominant land-cover class of each 1° cell: the class with the largest area (areas compared rounded
    to whole m^2, so that equal areas computed along different paths tie), ties going to the lower
    class_rank, then to the class name. -#}

with class_areas as (
    select cell_id, class, area_m2 from {{ ref('int_landcover_cell_class_fractions') }}
),

classes as (
    select distinct class, class_rank, is_ecosystem from {{ ref('stg_raw__landcover_classes') }}
),

ranked as (
    select
        class_areas.cell_id,
        class_areas.class,
        classes.is_ecosystem,
        row_number() over (
            partition by class_areas.cell_id
            order by round(class_areas.area_m2) desc, classes.class_rank asc, class_areas.class asc
        ) as position
    from class_areas
    inner join classes on class_areas.class = classes.class
),

final as (
    select cell_id, class, is_ecosystem
    from ranked
    where position = 1
)

select * from final
