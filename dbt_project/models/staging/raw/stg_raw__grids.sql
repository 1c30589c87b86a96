with source as (
    select * from {{ source('raw', 'grid') }}
),

renamed as (
    select
        grid_id,
        west,
        north,
        dx,
        dy,
        nx,
        ny
    from source
)

select * from renamed
