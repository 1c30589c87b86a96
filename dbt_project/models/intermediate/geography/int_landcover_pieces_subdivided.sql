{{ config(post_hook=["create index on {{ this }} using gist (geom_cea)", "analyze {{ this }}"]) }}

{#- Land-cover polygons with their vegetation group (the map's own code) and its class, on the equal-area
    projection, cut into small pieces. -#}

with landcover as (
    select code, geom from {{ ref('stg_raw__landcover') }}
),

classes as (
    select code, class from {{ ref('stg_raw__landcover_classes') }}
),

final as (
    select
        landcover.code,
        classes.class,
        st_subdivide({{ to_cea('landcover.geom') }}, 256) as geom_cea
    from landcover
    inner join classes on landcover.code = classes.code
)

select * from final
