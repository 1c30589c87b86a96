{#- The published build: which build the mart views show, what built it and how many rows each view has. -#}

with published as (
    {{ latest_publication() }}
),

metadata as (
    select * from {{ ref('int_build_metadata') }}
),

final as (
    select
        published.build_id,
        metadata.started_at,
        published.published_at as finished_at,
        metadata.sinkload_version,
        metadata.git_commit,
        metadata.dbt_version,
        metadata.period_start_year,
        metadata.period_end_year,
        metadata.dbt_vars,
        jsonb_build_object(
            'sink_cell_mean', (select count(*) from {{ ref('sink_cell_mean') }}),
            'sink_monthly', (select count(*) from {{ ref('sink_monthly') }}),
            'sink_annual', (select count(*) from {{ ref('sink_annual') }}),
            'sink_summary', (select count(*) from {{ ref('sink_summary') }}),
            'sink_zonal_monthly', (select count(*) from {{ ref('sink_zonal_monthly') }}),
            'ensemble_spread', (select count(*) from {{ ref('ensemble_spread') }}),
            'products', (select count(*) from {{ ref('products') }}),
            'product_comparison', (select count(*) from {{ ref('product_comparison') }}),
            'budget_comparison', (select count(*) from {{ ref('budget_comparison') }}),
            'sink_lineage', (select count(*) from {{ ref('sink_lineage') }})
        ) as view_row_counts
    from published
    left join metadata on published.build_id = metadata.build_id
)

select * from final
