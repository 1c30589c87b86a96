with published as (
    {{ published_rows('int_unit_cell_weights_published') }}
),

final as (
    select
        scope,
        unit,
        lon,
        lat,
        fraction as cell_fraction,
        weight_m2,
        earth_model,
        geom
    from published
)

select * from final
