{#- Mean and interannual sample SD of the annual sink per unit over the complete years of the period, and
    each unit's share of the sum over its scope's units (NULL for the national scope; NULL when that sum is
    zero). -#}

with unit_years as (
    select product, member, scope, unit, year, sink_pgc, min_coverage_pct
    from {{ ref('int_sink_unit_years_summed') }}
),

summary as (
    select
        product,
        member,
        scope,
        unit,
        min(year) as first_year,
        max(year) as last_year,
        count(*) as n_years,
        avg(sink_pgc) as mean_pgc_yr,
        stddev_samp(sink_pgc) as interannual_sd_pgc_yr,
        min(min_coverage_pct) as min_coverage_pct
    from unit_years
    group by 1, 2, 3, 4
),

scope_totals as (
    select product, member, scope, sum(mean_pgc_yr) as scope_total_pgc_yr
    from summary
    group by 1, 2, 3
),

final as (
    select
        summary.product,
        summary.member,
        summary.scope,
        summary.unit,
        summary.first_year,
        summary.last_year,
        summary.n_years,
        summary.mean_pgc_yr,
        summary.interannual_sd_pgc_yr,
        case
            when summary.scope = 'national' then null
            else 100 * summary.mean_pgc_yr / nullif(scope_totals.scope_total_pgc_yr, 0)
        end as share_pct,
        summary.min_coverage_pct
    from summary
    inner join scope_totals
        on summary.product = scope_totals.product
        and summary.member = scope_totals.member
        and summary.scope = scope_totals.scope
)

select * from final
