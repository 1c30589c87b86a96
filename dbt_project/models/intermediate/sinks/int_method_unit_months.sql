{{ config(**incremental_by_month('method_weights_fingerprint')) }}

{#- Pg C per unit and month under each weighting method of int_unit_cell_weights_by_method (the sum over
    the unit's valid cells of value x weight), for int_method_comparison. Incremental by (product, member,
    month) like int_flux_cell_months_with_ensemble (macros/incremental.sql); a change of the weights
    rebuilds every row. -#}

with keys_to_build as (
    {{ incremental_keys_to_build(flux_month_versions(), ['product', 'member', 'month']) }}
),

cell_months as (
    {{ cell_months_to_build() }}
),

weights as (
    select method, scope, unit, cell_id, weight_m2 from {{ ref('int_unit_cell_weights_by_method') }}
),

final as (
    select
        weights.method,
        cell_months.product,
        cell_months.member,
        weights.scope,
        weights.unit,
        cell_months.month,
        sum(cell_months.sink_gc_m2 * weights.weight_m2) / 1e15 as sink_pgc,
        cell_months.source_version,
        {{ method_weights_fingerprint() }} as inputs_fingerprint
    from cell_months
    inner join weights on cell_months.cell_id = weights.cell_id
    group by weights.method, cell_months.product, cell_months.member, weights.scope, weights.unit, cell_months.month,
        cell_months.source_version
)

select * from final
