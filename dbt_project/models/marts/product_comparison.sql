with published as (
    {{ published_rows('int_product_comparison_published') }}
),

final as (
    select
        family,
        scope,
        unit,
        product_a,
        product_b,
        a_first_year,
        a_last_year,
        b_first_year,
        b_last_year,
        a_mean_pgc_yr,
        b_mean_pgc_yr,
        difference_pgc_yr,
        a_n_members,
        b_n_members,
        a_member_sd_pgc_yr,
        b_member_sd_pgc_yr,
        a_member_min_pgc_yr,
        a_member_max_pgc_yr,
        b_member_min_pgc_yr,
        b_member_max_pgc_yr,
        spreads_overlap
    from published
)

select * from final
