with published as (
    {{ published_rows('int_region_layer_quality_published') }}
),

final as (
    select
        scope,
        n_units,
        tiles_national,
        national_area_km2,
        uncovered_km2,
        multiply_covered_km2,
        outside_national_km2
    from published
)

select * from final
