with source as (
    select * from {{ source('raw', 'landcover_class') }}
),

renamed as (
    select
        code,
        group_name,
        class,
        is_ecosystem,
        class_rank
    from source
)

select * from renamed
