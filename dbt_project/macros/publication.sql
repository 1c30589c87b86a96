{#- Publication of the marts (see docs/marts.md). Each published model appends a complete copy of its
    tested intermediate model under the id of the build that wrote it; int_publication records, per build,
    which copy of every published model the marts show. A published model that did not run in a build
    (a partial build) keeps the copy the previous publication named, so a publication always carries every
    published model; readers see old or new, never a mix, and a build that fails before publication leaves
    the last complete state. -#}

{#- The published models and the mart view that shows each: the one list (int_publication, its pruning,
    build_info's row counts and the mart views use it). Every mart view reads a published copy (or
    int_publication) and nothing else, so that dbt replacing a staging view or an intermediate table
    (drop ... cascade) never takes a mart view with it, even when a build stops half-way. -#}
{% macro published_models() -%}
    {{ return({
        'int_sink_cell_means_published': 'sink_cell_mean',
        'int_sink_unit_months_published': 'sink_monthly',
        'int_sink_unit_years_published': 'sink_annual',
        'int_sink_unit_summary_published': 'sink_summary',
        'int_sink_zonal_months_published': 'sink_zonal_monthly',
        'int_ensemble_spread_published': 'ensemble_spread',
        'int_unit_cell_weights_published': 'unit_cell_weights',
        'int_region_layer_quality_published': 'region_layer_quality',
        'int_method_comparison_published': 'method_comparison',
        'int_products_published': 'products',
        'int_product_comparison_published': 'product_comparison',
        'int_budget_comparison_published': 'budget_comparison',
        'int_sink_lineage_published': 'sink_lineage',
    }) }}
{%- endmacro %}

{#- on-run-start: a build id for this dbt invocation, from a sequence (never the clock), and the helper that
    lets a data test fail with a message of its own. -#}
{% macro start_build() -%}
    {% if execute %}
        {#- dbt's set role on open is rolled back on the hook connection: own these objects as the profile's role -#}
        {% if target.role %}set role {{ adapter.quote(target.role) }};{% endif %}
        create schema if not exists intermediate;
        do $start_build$
        declare
            seed bigint := 0;
        begin
            if to_regclass('intermediate.build_run') is null then
                create table intermediate.build_run (
                    build_id bigint generated always as identity primary key,
                    invocation_id text not null unique,
                    started_at timestamptz not null default now()
                );
                -- continue above every build id already used (a warehouse built before build ids came
                -- from this sequence, or one whose build_run was lost)
                {% for relation in ['int_publication'] + (published_models() | list) %}
                if to_regclass('intermediate.{{ relation }}') is not null then
                    execute 'select greatest($1, max(build_id)) from intermediate.{{ relation }}' into seed using seed;
                end if;
                {% endfor %}
                if seed > 0 then
                    perform setval(pg_get_serial_sequence('intermediate.build_run', 'build_id'), seed);
                end if;
            end if;
        end
        $start_build$;
        insert into intermediate.build_run (invocation_id) values ('{{ invocation_id }}')
        on conflict (invocation_id) do nothing;
        create or replace function intermediate.fail_check(message text) returns boolean
        language plpgsql as $fail_check$
        begin
            raise exception '%', message;
        end
        $fail_check$;
    {% endif %}
{%- endmacro %}

{#- The id of this dbt invocation's build. -#}
{% macro current_build_id() -%}
    (select build_id from intermediate.build_run where invocation_id = '{{ invocation_id }}')
{%- endmacro %}

{#- Body of a published model: the current build's copy of a tested intermediate model, without the
    bookkeeping columns of incremental models (macros/incremental.sql). -#}
{% macro publish(relation) -%}
    {%- set columns = ['source_rows.*'] -%}
    {%- if execute -%}
        {%- set columns = [] -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- if column.name not in ['source_version', 'inputs_fingerprint'] -%}
                {%- do columns.append('source_rows.' ~ adapter.quote(column.name)) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif %}
    select {{ current_build_id() }} as build_id, {{ columns | join(', ') }}
    from {{ relation }} as source_rows
{%- endmacro %}

{#- Body of a mart view: the rows of the published model's copy that the newest publication names. -#}
{% macro published_rows(model_name) -%}
    select * from {{ ref(model_name) }}
    where build_id = (
        select model_build_id from {{ ref('int_publication') }}
        where model = '{{ model_name }}'
        order by build_id desc
        limit 1
    )
{%- endmacro %}

{#- The newest publication as one row: its build id and when it switched the views. -#}
{% macro latest_publication() -%}
    select build_id, max(published_at) as published_at
    from {{ ref('int_publication') }}
    where build_id = (select max(build_id) from {{ ref('int_publication') }})
    group by build_id
{%- endmacro %}

{#- Keep, of each published model, the copies named by the two newest publications (the newest, and the
    one a reader may still be reading). -#}
{% macro prune_published() -%}
    -- rows of a warehouse published before per-model publication (no model): history only
    delete from {{ this }} where model is null;
    {% for model_name in published_models() %}
        delete from {{ ref(model_name) }}
        where build_id not in (
            select model_build_id from {{ this }}
            where model = '{{ model_name }}'
                and build_id in (select distinct build_id from {{ this }} order by build_id desc limit 2)
        );
    {% endfor %}
{%- endmacro %}
