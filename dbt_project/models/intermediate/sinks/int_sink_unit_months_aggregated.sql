{{ config(**incremental_by_month('unit_weights_fingerprint')) }}

{#- Mass exchanged per unit and month (Tg C), from the valid 1° cells; NULL (never 0) when no cell of the
    unit has a value. n_valid_cells / n_cells, valid_area_m2 and coverage_pct make partial coverage
    visible. Incremental by (product, member, month) like int_flux_cell_months_with_ensemble (macros/incremental.sql);
    a change of the unit weights (regions, land cover) rebuilds every row. -#}

with keys_to_build as (
    {{ incremental_keys_to_build(flux_month_versions(), ['product', 'member', 'month']) }}
),

cell_months as (
    {{ cell_months_to_build() }}
),

weights as (
    select scope, unit, cell_id, weight_m2 from {{ ref('int_unit_cell_weights') }}
),

product_months as (
    select distinct product, member, month, source_version from cell_months
),

unit_sizes as (
    select scope, unit, count(*) as n_cells, sum(weight_m2) as weight_m2
    from weights
    group by scope, unit
),

sums as (
    select
        cell_months.product,
        cell_months.member,
        weights.scope,
        weights.unit,
        cell_months.month,
        sum(cell_months.sink_gc_m2 * weights.weight_m2) / 1e12 as sink_tgc,
        count(*) as n_valid_cells,
        sum(weights.weight_m2) as valid_area_m2
    from cell_months
    inner join weights on cell_months.cell_id = weights.cell_id
    group by 1, 2, 3, 4, 5
),

final as (
    select
        product_months.product,
        product_months.member,
        unit_sizes.scope,
        unit_sizes.unit,
        product_months.month,
        sums.sink_tgc,
        coalesce(sums.n_valid_cells, 0) as n_valid_cells,
        unit_sizes.n_cells,
        coalesce(sums.valid_area_m2, 0) / 1e6 as valid_area_km2,
        100 * coalesce(sums.valid_area_m2, 0) / unit_sizes.weight_m2 as coverage_pct,
        product_months.source_version,
        {{ unit_weights_fingerprint() }} as inputs_fingerprint
    from product_months
    cross join unit_sizes
    left join sums
        on product_months.product = sums.product
        and product_months.member = sums.member
        and unit_sizes.scope = sums.scope
        and unit_sizes.unit = sums.unit
        and product_months.month = sums.month
)

select * from final
