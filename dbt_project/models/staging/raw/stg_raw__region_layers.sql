with source as (
    select * from {{ source('raw', 'region_layer') }}
),

renamed as (
    select
        source.scope,
        {{ tiles_national_expression('source') }} as tiles_national
    from source
)

select * from renamed
