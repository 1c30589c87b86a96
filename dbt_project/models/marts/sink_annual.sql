with published as (
    {{ published_rows('int_sink_unit_years_published') }}
),

final as (
    select
        product,
        member,
        scope,
        unit,
        year,
        sink_pgc,
        min_coverage_pct,
        make_date(year, 1, 1) as year_start
    from published
)

select * from final
