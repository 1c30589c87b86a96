with published as (
    select * from {{ ref('int_sink_unit_summary_published') }}
    where build_id = {{ published_build_id() }}
),

final as (
    select
        product,
        member,
        scope,
        unit,
        first_year,
        last_year,
        n_years,
        mean_pgc_yr,
        interannual_sd_pgc_yr,
        share_pct
    from published
)

select * from final
