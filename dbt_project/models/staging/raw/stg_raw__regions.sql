with source as (
    select * from {{ source('raw', 'region') }}
),

renamed as (
    select
        region_id,
        scope,
        name as unit,
        geom
    from source
)

select * from renamed
