-- The four divisions tile China: per product, member and month their sinks add up to the national sink,
-- up to floating-point rounding (relative to the month's gross cell-by-cell mass).
with unit_months as (
    select product, member, scope, month, sink_tgc
    from {{ ref('int_sink_unit_months_aggregated') }}
    where scope in ('national', 'division')
),

cell_months as (
    select product, member, month, cell_id, sink_gc_m2
    from {{ ref('int_flux_cell_months_with_ensemble') }}
),

national_weights as (
    select cell_id, weight_m2 from {{ ref('int_unit_cell_weights') }} where scope = 'national'
),

gross as (
    select
        cell_months.product,
        cell_months.member,
        cell_months.month,
        sum(abs(cell_months.sink_gc_m2) * national_weights.weight_m2) / 1e12 as gross_tgc
    from cell_months
    inner join national_weights on cell_months.cell_id = national_weights.cell_id
    group by 1, 2, 3
),

compared as (
    select
        product,
        member,
        month,
        sum(sink_tgc) filter (where scope = 'division') as divisions_tgc,
        sum(sink_tgc) filter (where scope = 'national') as national_tgc
    from unit_months
    group by 1, 2, 3
)

select compared.*, gross.gross_tgc
from compared
inner join gross using (product, member, month)
where abs(coalesce(compared.divisions_tgc, 0) - coalesce(compared.national_tgc, 0)) > 1e-6 * gross.gross_tgc + 1e-12
