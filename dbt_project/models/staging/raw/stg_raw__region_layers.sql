with source as (
    select * from {{ source('raw', 'region_layer') }}
),

renamed as (
    select
        scope,
        tiles_national,
        iso3
    from source
)

select * from renamed
