with published as (
    {{ published_rows('int_sink_zonal_months_published') }}
),

final as (
    select
        product,
        member,
        lat,
        month,
        sink_gc_m2_day
    from published
)

select * from final
