{#- The unit the loader parsed from each file, when raw.load_batch records it (column parsed_unit, added by a
    later migration); NULL otherwise, so that the lineage view works on either schema. -#}

{%- set has_parsed_unit = false -%}
{%- if execute -%}
    {%- set columns = adapter.get_columns_in_relation(source('raw', 'load_batch')) | map(attribute='name') | list -%}
    {%- set has_parsed_unit = 'parsed_unit' in columns -%}
{%- endif %}

with source as (
    select * from {{ source('raw', 'load_batch') }}
),

renamed as (
    select
        batch_id,
        {% if has_parsed_unit %}parsed_unit::text{% else %}null::text{% endif %} as parsed_unit
    from source
)

select * from renamed
