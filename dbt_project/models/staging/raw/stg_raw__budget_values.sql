with source as (
    select * from {{ source('raw', 'budget_value') }}
),

renamed as (
    select
        file_id,
        code,
        is_region,
        year,
        is_mean,
        experiment,
        quantity,
        value as value_tgco2_yr,
        unc as unc_tgco2_yr
    from source
)

select * from renamed
