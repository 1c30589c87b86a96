with source as (
    select * from {{ source('raw', 'product') }}
),

renamed as (
    select
        product_id,
        name as product,
        family,
        kind,
        release,
        experiment,
        is_ensemble
    from source
)

select * from renamed
