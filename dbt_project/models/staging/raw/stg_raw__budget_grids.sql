with source as (
    select * from {{ source('raw', 'budget_grid') }}
),

renamed as (
    select
        file_id,
        experiment,
        year,
        nbe as nbe_gco2_m2_yr,
        nbe_std as nbe_std_gco2_m2_yr
    from source
)

select * from renamed
