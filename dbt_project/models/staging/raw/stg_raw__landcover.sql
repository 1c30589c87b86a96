with source as (
    select * from {{ source('raw', 'landcover') }}
),

renamed as (
    select
        landcover_id,
        code,
        geom
    from source
)

select * from renamed
