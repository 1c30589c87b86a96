{#- The catalog fields of a product that stg_raw__products does not carry: its comparison family (which
    products may be compared) and description. -#}

with source as (
    select * from {{ source('raw', 'product') }}
),

renamed as (
    select
        product_id,
        comparison_family,
        description
    from source
)

select * from renamed
