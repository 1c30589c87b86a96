with published as (
    {{ published_rows('int_sink_unit_months_published') }}
),

final as (
    select
        product,
        member,
        scope,
        unit,
        month,
        sink_tgc,
        valid_area_km2,
        coverage_pct
    from published
)

select * from final
