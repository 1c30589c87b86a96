{#- Mean annual sink per product, member, scope and unit under each weighting method of
    int_unit_cell_weights_by_method, over the complete years of the period (all 12 months with a value, as
    in int_sink_unit_years_summed; the monthly sums are int_method_unit_months), and its difference from the
    reference method exact_overlap in per cent of the reference's magnitude. The exact_overlap rows equal int_sink_unit_summary (a test checks it). -#}

with unit_months as (
    select method, product, member, scope, unit, month, sink_pgc from {{ ref('int_method_unit_months') }}
),

unit_years as (
    select method, product, member, scope, unit, sum(sink_pgc) as sink_pgc
    from unit_months
    group by method, product, member, scope, unit, extract(year from month)
    having count(*) = 12
),

means as (
    select method, product, member, scope, unit, avg(sink_pgc) as mean_pgc_yr
    from unit_years
    group by 1, 2, 3, 4, 5
),

final as (
    select
        means.product,
        means.member,
        means.scope,
        means.unit,
        means.method,
        means.mean_pgc_yr,
        100 * (means.mean_pgc_yr - reference.mean_pgc_yr) / nullif(abs(reference.mean_pgc_yr), 0)
            as difference_pct
    from means
    left join means as reference
        on reference.method = 'exact_overlap'
        and means.product = reference.product
        and means.member = reference.member
        and means.scope = reference.scope
        and means.unit = reference.unit
)

select * from final
