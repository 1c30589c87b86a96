{{ config(**incremental_by_month('unit_weights_fingerprint')) }}

{#- Mass exchanged per unit and month (Tg C), from the valid 1° cells; NULL (never 0) when no cell of the
    unit has a value. n_valid_cells / n_cells, valid_area_m2 and coverage_pct make partial coverage
    visible. Incremental by (product, member, month) like int_flux_cell_months_with_ensemble (macros/incremental.sql);
    a change of the unit weights (regions, land cover) rebuilds every row. -#}

with keys_to_build as (
    {{ keys_to_build() }}
),

weights as (
    select scope, unit, cell_id, weight_m2 from {{ ref('int_unit_cell_weights') }}
),

{#- the keys with cells (a key without any has no rows) -#}
product_months as (
    select keys_to_build.product, keys_to_build.member, keys_to_build.month, keys_to_build.source_version
    from keys_to_build
    where exists (select 1 from {{ cell_months_of_key() }} as cell_months)
),

unit_sizes as (
    select scope, unit, count(*) as n_cells, sum(weight_m2) as weight_m2
    from weights
    group by scope, unit
),

sums as (
    select
        keys_to_build.product,
        keys_to_build.member,
        unit_sums.scope,
        unit_sums.unit,
        keys_to_build.month,
        unit_sums.sink_tgc,
        unit_sums.n_valid_cells,
        unit_sums.valid_area_m2
    from keys_to_build
    cross join lateral (
        select
            weights.scope,
            weights.unit,
            sum(cell_months.sink_gc_m2 * weights.weight_m2) / 1e12 as sink_tgc,
            count(*) as n_valid_cells,
            sum(weights.weight_m2) as valid_area_m2
        from {{ cell_months_of_key() }} as cell_months
        inner join weights on cell_months.cell_id = weights.cell_id
        group by weights.scope, weights.unit
    ) as unit_sums
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
