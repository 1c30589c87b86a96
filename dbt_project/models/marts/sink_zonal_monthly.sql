with published as (
    select * from {{ ref('int_sink_zonal_months_published') }}
    where build_id = {{ published_build_id() }}
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
