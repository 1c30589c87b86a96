with published as (
    select * from {{ ref('int_sink_cell_means_published') }}
    where build_id = {{ published_build_id() }}
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
