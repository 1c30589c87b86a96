with source as (
    select * from {{ source('raw', 'flux_month_1deg') }}
),

renamed as (
    select
        product_id,
        member_id,
        month,
        month_digest,
        {{ version_of('month_digest') }} as month_version,
        harmonisation_version,
        cell_id,
        sink_gc_m2,
        n_native_cells
    from source
)

select * from renamed
