{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    post_hook=["{{ prune_published() }}"]
) }}

{#- One row per published build and published model: which build's copy of the model the marts show.
    dbt runs this model only after every published model this build ran was written and the models they
    copy passed their tests; inserting the rows is the one transaction that switches every mart view.
    A published model this build did not run (a partial build: not downstream of what changed) keeps the
    copy of the previous publication; a model that has none fails the build before anything switches. -#}

{% for model_name in published_models() -%}
-- depends_on: {{ ref(model_name) }}
{% endfor %}

{%- set sources = {} -%}
{%- if execute -%}
    {%- set previous = {} -%}
    {#- a warehouse published before per-model publication has no `model` column yet: nothing to carry -#}
    {%- if is_incremental() and 'model' in (adapter.get_columns_in_relation(this) | map(attribute='name') | list) -%}
        {%- set rows = run_query(
            "select model, model_build_id from " ~ this ~ " where build_id = (select max(build_id) from "
            ~ this ~ ") and model is not null") -%}
        {%- for row in rows -%}
            {%- do previous.update({row[0]: row[1]}) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- for model_name in published_models() -%}
        {%- if ('model.' ~ project_name ~ '.' ~ model_name) in selected_resources -%}
            {%- do sources.update({model_name: current_build_id()}) -%}
        {%- elif model_name in previous -%}
            {%- do sources.update({model_name: previous[model_name] ~ '::bigint'}) -%}
        {%- else -%}
            {{ exceptions.raise_compiler_error(
                "publication: " ~ model_name ~ " was not built in this run and has no published copy; "
                ~ "run a full build (sinkload build)") }}
        {%- endif -%}
    {%- endfor -%}
{%- endif %}

with published (model, model_build_id) as (
    values
    {%- for model_name, build_id in sources.items() %}
        ('{{ model_name }}', {{ build_id }}){{ "," if not loop.last }}
    {%- endfor %}
    {%- if not sources %}
        (null::text, null::bigint)
    {%- endif %}
),

final as (
    select
        {{ current_build_id() }} as build_id,
        model,
        model_build_id,
        now() as published_at
    from published
)

select * from final
