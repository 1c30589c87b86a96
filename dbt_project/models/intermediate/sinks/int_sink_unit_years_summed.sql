{#- Annual sink per unit (Pg C) for the years of the period in which all 12 months have a value, with the
    smallest monthly coverage (%) of those months. -#}

with unit_months as (
    select product, member, scope, unit, month, sink_tgc, coverage_pct
    from {{ ref('int_sink_unit_months_aggregated') }}
),

years as (
    select
        product,
        member,
        scope,
        unit,
        extract(year from month)::integer as year,
        count(sink_tgc) as n_months,
        sum(sink_tgc) / 1000 as sink_pgc,
        min(coverage_pct) as min_coverage_pct
    from unit_months
    group by 1, 2, 3, 4, 5
),

final as (
    select product, member, scope, unit, year, sink_pgc, min_coverage_pct
    from years
    where n_months = 12
)

select * from final
