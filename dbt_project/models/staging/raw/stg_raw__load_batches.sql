with source as (
    select * from {{ source('raw', 'load_batch') }}
),

renamed as (
    select
        batch_id,
        product_id,
        member_id,
        grid_id,
        file_name,
        sha256,
        size_bytes,
        release,
        experiment,
        variable,
        units_found,
        units_assumed,
        parsed_unit,
        species,
        factor_applied,
        sign_applied,
        first_month,
        last_month,
        n_months,
        n_values,
        loader_version,
        loaded_at
    from source
)

select * from renamed
