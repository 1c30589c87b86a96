{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='fail') }}

{#- One row per dbt invocation that publishes the marts: what built them. Downstream of int_publication so that
    every selection that publishes also records (a reload's partial build included). The versions come from
    the dbt variables `sinkload build` passes (NULL when dbt is run by hand without them). -#}

-- depends_on: {{ ref('int_publication') }}

select
    {{ current_build_id() }} as build_id,
    '{{ run_started_at.isoformat() }}'::timestamptz as started_at,
    clock_timestamp() as recorded_at,
    {{ sql_text(var('sinkload_version', none)) }} as sinkload_version,
    {{ sql_text(var('git_commit', none)) }} as git_commit,
    '{{ dbt_version }}'::text as dbt_version,
    {{ var('period_start_year') }}::integer as period_start_year,
    {{ var('period_end_year') }}::integer as period_end_year,
    '{{ tojson({"period_start_year": var("period_start_year"), "period_end_year": var("period_end_year"),
                "earth_radius_m": var("earth_radius_m"), "landcover_rule": var("landcover_rule")}) | replace("'", "''") }}'::jsonb
        as dbt_vars
