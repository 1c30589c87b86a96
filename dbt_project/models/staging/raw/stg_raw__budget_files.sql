with source as (
    select * from {{ source('raw', 'budget_file') }}
),

renamed as (
    select
        file_id,
        kind,
        file_name,
        sha256,
        size_bytes,
        units_found,
        n_values,
        loader_version,
        loaded_at
    from source
)

select * from renamed
