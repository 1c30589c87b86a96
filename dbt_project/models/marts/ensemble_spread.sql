with published as (
    {{ published_rows('int_ensemble_spread_published') }}
),

final as (
    select
        product,
        scope,
        unit,
        n_members,
        member_mean_pgc_yr,
        member_sd_pgc_yr,
        member_min_pgc_yr,
        member_max_pgc_yr
    from published
)

select * from final
