{#- A Jinja value as a SQL text literal (quotes doubled), or NULL::text when it is none or empty. -#}
{% macro sql_text(value) -%}
    {%- if value is none or value == '' -%}null::text{%- else -%}'{{ value | string | replace("'", "''") }}'::text{%- endif -%}
{%- endmacro %}
