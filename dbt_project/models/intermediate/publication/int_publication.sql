{{ config(
    materialized='incremental',
    incremental_strategy='append',
    post_hook=[
        "{{ prune_published([ref('int_sink_cell_means_published'), ref('int_sink_unit_months_published'),
            ref('int_sink_unit_years_published'), ref('int_sink_unit_summary_published'),
            ref('int_sink_zonal_months_published'), ref('int_ensemble_spread_published')]) }}"
    ]
) }}

{#- One row per published build. dbt runs this model only after every published table of this build was
    written and the models they copy passed their tests; inserting the row is the one transaction that
    switches every mart view to the new build. -#}

-- depends_on: {{ ref('int_sink_cell_means_published') }}
-- depends_on: {{ ref('int_sink_unit_months_published') }}
-- depends_on: {{ ref('int_sink_unit_years_published') }}
-- depends_on: {{ ref('int_sink_unit_summary_published') }}
-- depends_on: {{ ref('int_sink_zonal_months_published') }}
-- depends_on: {{ ref('int_ensemble_spread_published') }}

select
    {{ current_build_id() }} as build_id,
    now() as published_at
