{#- The analysis period of the dbt variables period_start_year / period_end_year, as first-of-month dates. -#}
{% macro period_first_month() -%}
    make_date({{ var('period_start_year') }}, 1, 1)
{%- endmacro %}

{% macro period_last_month() -%}
    make_date({{ var('period_end_year') }}, 12, 1)
{%- endmacro %}

{#- Days of the month that starts at `month` (a date), standard calendar. -#}
{% macro days_in_month(month) -%}
    extract(day from ({{ month }} + interval '1 month' - interval '1 day'))::integer
{%- endmacro %}
