{{ config(post_hook=["create unique index on {{ this }} (cell_id)"]) }}

{#- The dominant land-cover class of each 1° cell under the rule of the dbt var landcover_rule
    (group_first, the study's order, by default; or merge_first): see int_landcover_cell_dominants. -#}

{%- set rule = var('landcover_rule') -%}
{%- if rule not in ('group_first', 'merge_first') -%}
    {{ exceptions.raise_compiler_error("dbt var landcover_rule must be group_first or merge_first, not " ~ rule) }}
{%- endif %}

with dominants as (
    select rule, cell_id, class, is_ecosystem from {{ ref('int_landcover_cell_dominants') }}
),

final as (
    select cell_id, class, is_ecosystem
    from dominants
    where rule = '{{ rule }}'
)

select * from final
