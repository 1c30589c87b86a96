{{ config(post_hook=["create index on {{ this }} using gist (geom_cea)", "analyze {{ this }}"]) }}

{#- Region polygons on the equal-area projection, cut into pieces of at most 256 vertices so that each
    cell is tested against small pieces through the spatial index. The pieces of a unit do not overlap; piece_id
    names a piece within one build. -#}

with regions as (
    select scope, unit, geom from {{ ref('stg_raw__regions') }}
),

final as (
    select
        scope,
        unit,
        st_subdivide({{ to_cea('geom') }}, 256) as geom_cea
    from regions
)

select row_number() over () as piece_id, scope, unit, geom_cea from final
