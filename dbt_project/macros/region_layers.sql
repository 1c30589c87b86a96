{#- Whether a region layer tiles the national layer, as a SQL expression over raw.region_layer (alias
    `layer`): the division layer always, any layer whose tiles_national column is true. The column is read
    only when raw.region_layer has it (a warehouse migrated before it was added has only the division). -#}
{% macro tiles_national_expression(layer) -%}
    {%- set has_column = false -%}
    {%- if execute -%}
        {%- set columns = adapter.get_columns_in_relation(source('raw', 'region_layer')) -%}
        {%- set has_column = 'tiles_national' in (columns | map(attribute='name') | list) -%}
    {%- endif -%}
    ({{ layer }}.scope = 'division'{% if has_column %} or coalesce({{ layer }}.tiles_national, false){% endif %})
{%- endmacro %}
