with published as (
    {{ published_rows('int_sink_unit_summary_published') }}
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
        share_pct,
        min_coverage_pct
    from published
)

select * from final
