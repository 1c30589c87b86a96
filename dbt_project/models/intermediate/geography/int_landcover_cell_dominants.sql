{{ config(post_hook=["create unique index on {{ this }} (rule, cell_id)"]) }}

{#- The dominant land-cover class of each 1° cell under both rules (docs/geography.md). Areas are compared
    rounded to whole m^2, so that equal areas computed along different paths tie.
    - group_first (the study's order): the vegetation group (the map's own code) with the largest area
      wins, then maps to its class; ties go to the group whose class has the lower class_rank, then to the
      lower code.
    - merge_first: groups are merged into classes first and the class with the largest area wins; ties go
      to the lower class_rank, then to the class name. -#}

with group_areas as (
    select cell_id, code, area_m2 from {{ ref('int_landcover_cell_group_fractions') }}
),

class_areas as (
    select cell_id, class, area_m2 from {{ ref('int_landcover_cell_class_fractions') }}
),

groups as (
    select code, class, class_rank, is_ecosystem from {{ ref('stg_raw__landcover_classes') }}
),

classes as (
    select distinct class, class_rank, is_ecosystem from {{ ref('stg_raw__landcover_classes') }}
),

groups_ranked as (
    select
        group_areas.cell_id,
        groups.code,
        groups.class,
        groups.is_ecosystem,
        row_number() over (
            partition by group_areas.cell_id
            order by round(group_areas.area_m2) desc, groups.class_rank asc, groups.code asc
        ) as position
    from group_areas
    inner join groups on group_areas.code = groups.code
),

classes_ranked as (
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
    select 'group_first' as rule, cell_id, code, class, is_ecosystem
    from groups_ranked
    where position = 1
    union all
    select 'merge_first' as rule, cell_id, null::integer as code, class, is_ecosystem
    from classes_ranked
    where position = 1
)

select * from final
