{{ config(**incremental_by_month('zonal_weights_fingerprint')) }}

{#- Per 1° latitude band and month: the area-weighted mean sink over China's land in the band (weights:
    each cell's area inside the national boundary), per day of that month (standard calendar).
    Incremental by (product, member, month) like int_flux_cell_months_with_ensemble (macros/incremental.sql);
    a change of the national weights rebuilds every row. -#}

with keys_to_build as (
    {{ keys_to_build() }}
),

national_weights as (
    select cell_id, weight_m2 from {{ ref('int_unit_cell_weights') }} where scope = 'national'
),

cells as (
    select cell_id, lat from {{ ref('int_analysis_cells') }}
),

bands as (
    select
        keys_to_build.product,
        keys_to_build.member,
        key_bands.lat,
        keys_to_build.month,
        keys_to_build.source_version,
        key_bands.sink_gc_m2_month
    from keys_to_build
    cross join lateral (
        select
            cells.lat,
            sum(cell_months.sink_gc_m2 * national_weights.weight_m2) / sum(national_weights.weight_m2)
                as sink_gc_m2_month
        from {{ cell_months_of_key() }} as cell_months
        inner join national_weights on cell_months.cell_id = national_weights.cell_id
        inner join cells on cell_months.cell_id = cells.cell_id
        group by cells.lat
    ) as key_bands
),

final as (
    select
        product,
        member,
        lat,
        month,
        sink_gc_m2_month / {{ days_in_month('month') }} as sink_gc_m2_day,
        source_version,
        {{ zonal_weights_fingerprint() }} as inputs_fingerprint
    from bands
)

select * from final
