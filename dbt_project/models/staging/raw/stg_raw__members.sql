with source as (
    select * from {{ source('raw', 'member') }}
),

renamed as (
    select
        member_id,
        product_id,
        name as member
    from source
)

select * from renamed
