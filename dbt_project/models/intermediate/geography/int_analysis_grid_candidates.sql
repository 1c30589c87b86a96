{#- The 1° cells (edges on whole degrees) within the national layer's bounding box. -#}

with national_extent as (
    select st_extent(geom) as extent
    from {{ ref('stg_raw__regions') }}
    where scope = 'national'
),

bounds as (
    select
        floor(st_xmin(extent))::integer as lon_first,
        ceil(st_xmax(extent))::integer - 1 as lon_last,
        floor(st_ymin(extent))::integer as lat_first,
        ceil(st_ymax(extent))::integer - 1 as lat_last
    from national_extent
    where extent is not null
),

corners as (
    select lon_west, lat_south
    from bounds
    cross join lateral generate_series(bounds.lon_first, bounds.lon_last) as lon_west
    cross join lateral generate_series(bounds.lat_first, bounds.lat_last) as lat_south
),

final as (
    select
        (lat_south + 90) * 360 + (lon_west + 180) as cell_id,
        lon_west + 0.5::double precision as lon,
        lat_south + 0.5::double precision as lat,
        lon_west::double precision as west,
        lon_west + 1::double precision as east,
        lat_south::double precision as south,
        lat_south + 1::double precision as north,
        {{ cell_area_m2('lon_west', 'lon_west + 1.0', 'lat_south', 'lat_south + 1.0') }} as area_m2,
        st_makeenvelope(lon_west, lat_south, lon_west + 1, lat_south + 1, 4326) as geom,
        {{ cea_envelope('lon_west', 'lon_west + 1.0', 'lat_south', 'lat_south + 1.0') }} as geom_cea
    from corners
)

select * from final
