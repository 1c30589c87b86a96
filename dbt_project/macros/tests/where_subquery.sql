{#- dbt's `where` config of data tests, plus one keyword: `where: written_since_publication` scopes a test of
    an incremental model to the rows written by builds that have not published yet (its column
    written_by_build above the newest publication's build id): the rows of the keys this build computed, and
    those of any earlier build that wrote them but failed before publishing. The rows outside were tested by
    the build that published them and have not changed since (incremental models rewrite whole keys, so a
    test grouping by the key, as unique_combination does, still sees every row of a key it checks). -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where == 'written_since_publication' -%}
        {%- set where = written_since_publication() -%}
    {%- endif -%}
    {%- if where -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{#- The condition: written_by_build above the newest publication's build (every row before the first). -#}
{% macro written_since_publication() -%}
    {%- set publication = adapter.get_relation(target.database, 'intermediate', 'int_publication') if execute else none -%}
    {%- if publication is not none -%}
        written_by_build > (select coalesce(max(build_id), 0) from {{ publication }})
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
