{{ config(**incremental_by_month('method_weights_fingerprint')) }}

{#- Pg C per unit and month under each weighting method of int_unit_cell_weights_by_method (the sum over
    the unit's valid cells of value x weight), for int_method_comparison. Incremental by (product, member,
    month) like int_flux_cell_months_with_ensemble (macros/incremental.sql); a change of the weights
    rebuilds every row. -#}

with keys_to_build as (
    {{ keys_to_build() }}
),

weights as (
    select method, scope, unit, cell_id, weight_m2 from {{ ref('int_unit_cell_weights_by_method') }}
),

final as (
    select
        unit_sums.method,
        keys_to_build.product,
        keys_to_build.member,
        unit_sums.scope,
        unit_sums.unit,
        keys_to_build.month,
        unit_sums.sink_pgc,
        keys_to_build.source_version,
        {{ method_weights_fingerprint() }} as inputs_fingerprint
    from keys_to_build
    cross join lateral (
        select weights.method, weights.scope, weights.unit, sum(cell_months.sink_gc_m2 * weights.weight_m2) / 1e15 as sink_pgc
        from {{ cell_months_of_key() }} as cell_months
        inner join weights on cell_months.cell_id = weights.cell_id
        group by weights.method, weights.scope, weights.unit
    ) as unit_sums
)

select * from final
