with published as (
    select * from {{ ref('int_sink_unit_years_published') }}
    where build_id = {{ published_build_id() }}
),

final as (
    select
        product,
        member,
        scope,
        unit,
        year,
        sink_pgc,
        make_date(year, 1, 1) as year_start
    from published
)

select * from final
