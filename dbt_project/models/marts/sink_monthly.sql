with published as (
    select * from {{ ref('int_sink_unit_months_published') }}
    where build_id = {{ published_build_id() }}
),

final as (
    select
        product,
        member,
        scope,
        unit,
        month,
        sink_tgc
    from published
)

select * from final
