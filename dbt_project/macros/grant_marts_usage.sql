{#- Model grants give SELECT on the views but not USAGE on their schema: the analyst needs both. -#}
{% macro grant_marts_usage() %}
    {% if execute %}
        create schema if not exists marts;
        grant usage on schema marts to {{ adapter.quote(var('analyst_role')) }};
    {% endif %}
{% endmacro %}
