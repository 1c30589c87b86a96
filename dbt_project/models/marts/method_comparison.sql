with published as (
    {{ published_rows('int_method_comparison_published') }}
),

final as (
    select
        product,
        member,
        scope,
        unit,
        method,
        mean_pgc_yr,
        difference_pct
    from published
)

select * from final
