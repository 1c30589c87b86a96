with published as (
    {{ published_rows('int_budget_comparison_published') }}
),

final as (
    select
        iso3,
        product,
        experiment,
        unit,
        year,
        is_mean,
        budget_sink_pgc_yr,
        budget_unc_pgc_yr,
        budget_grid_sink_pgc_yr,
        warehouse_first_year,
        warehouse_last_year,
        n_members,
        warehouse_member_median_pgc_yr,
        warehouse_ensemble_mean_pgc_yr,
        difference_pgc_yr,
        grid_difference_pgc_yr,
        within_unc
    from published
)

select * from final
