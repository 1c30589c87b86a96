with source as (
    select * from {{ source('raw', 'flux_tile') }}
),

renamed as (
    select
        product_id,
        member_id,
        month,
        grid_id,
        col0,
        row0,
        batch_id,
        month_digest,
        {{ version_of('month_digest') }} as month_version,
        rast
    from source
)

select * from renamed
