with published as (
    {{ published_rows('int_sink_cell_means_published') }}
),

final as (
    select
        product,
        member,
        lon,
        lat,
        sink_gc_m2_yr,
        geom,
        st_asgeojson(geom) as geojson
    from published
)

select * from final
