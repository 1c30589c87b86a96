{#- The MIP's national CO2 budgets (Byrne et al. 2023) against the warehouse's national annual sinks of the
    product whose catalog `experiment` is the budget's experiment, for the national layer's country (its iso3).
    Budget fluxes are Tg CO2 per year, positive = to the atmosphere: sink (Pg C per year, positive = uptake)
    = -NBE x 12.011 / 44.009 / 1000. See docs/marts.md for what the comparison can and cannot show. -#}

{%- set c_per_co2 = '(12.011 / 44.009)' %}

with national_layer as (
    select iso3 from {{ ref('stg_raw__region_layers') }} where scope = 'national'
),

budget as (
    select experiment, year, is_mean, value_tgco2_yr, unc_tgco2_yr
    from {{ ref('stg_raw__budget_values') }}
    where code = (select iso3 from national_layer) and quantity = 'NBE' and experiment is not null
),

budget_years as (
    select distinct experiment, year from budget where not is_mean
),

products as (
    select product, experiment from {{ ref('stg_raw__products') }} where experiment is not null
),

annual as (
    select product, member, unit, year, sink_pgc
    from {{ ref('int_sink_unit_years_summed') }}
    where scope = 'national' and member <> 'ensemble_mean'
),

matched as (
    select products.product, budget_years.experiment, annual.member, annual.unit, annual.year, annual.sink_pgc
    from annual
    inner join products on annual.product = products.product
    inner join budget_years
        on upper(products.experiment) = upper(budget_years.experiment) and annual.year = budget_years.year
),

member_means as (
    select product, experiment, member, unit, min(year) as first_year, max(year) as last_year,
        avg(sink_pgc) as sink_pgc
    from matched
    group by 1, 2, 3, 4
),

warehouse as (
    select product, experiment, unit, year, false as is_mean, year as first_year, year as last_year,
        count(*) as n_members,
        percentile_cont(0.5) within group (order by sink_pgc) as member_median_pgc_yr,
        avg(sink_pgc) as ensemble_mean_pgc_yr
    from matched
    group by 1, 2, 3, 4
    union all
    select product, experiment, unit, null::integer as year, true as is_mean, min(first_year), max(last_year),
        count(*),
        percentile_cont(0.5) within group (order by sink_pgc),
        avg(sink_pgc)
    from member_means
    group by 1, 2, 3
),

grid_years as (
    select experiment, year, unit, -nbe_tgco2_yr * {{ c_per_co2 }} / 1000 as sink_pgc_yr
    from {{ ref('int_budget_grid_units_integrated') }}
),

grid as (
    select experiment, year, false as is_mean, unit, sink_pgc_yr from grid_years
    union all
    select experiment, null::integer, true, unit, avg(sink_pgc_yr) from grid_years group by 1, 4
),

rows_wanted as (
    select
        products.product,
        budget.experiment,
        national.unit,
        budget.year,
        budget.is_mean,
        -budget.value_tgco2_yr * {{ c_per_co2 }} / 1000 as budget_sink_pgc_yr,
        budget.unc_tgco2_yr * {{ c_per_co2 }} / 1000 as budget_unc_pgc_yr
    from budget
    inner join products on upper(products.experiment) = upper(budget.experiment)
    cross join (select distinct unit from {{ ref('stg_raw__regions') }} where scope = 'national') as national
),

final as (
    select
        (select iso3 from national_layer) as iso3,
        rows_wanted.product,
        rows_wanted.experiment,
        rows_wanted.unit,
        rows_wanted.year,
        rows_wanted.is_mean,
        rows_wanted.budget_sink_pgc_yr,
        rows_wanted.budget_unc_pgc_yr,
        grid.sink_pgc_yr as budget_grid_sink_pgc_yr,
        warehouse.first_year as warehouse_first_year,
        warehouse.last_year as warehouse_last_year,
        coalesce(warehouse.n_members, 0) as n_members,
        warehouse.member_median_pgc_yr as warehouse_member_median_pgc_yr,
        warehouse.ensemble_mean_pgc_yr as warehouse_ensemble_mean_pgc_yr,
        warehouse.member_median_pgc_yr - rows_wanted.budget_sink_pgc_yr as difference_pgc_yr,
        warehouse.member_median_pgc_yr - grid.sink_pgc_yr as grid_difference_pgc_yr,
        abs(warehouse.member_median_pgc_yr - rows_wanted.budget_sink_pgc_yr)
        <= rows_wanted.budget_unc_pgc_yr as within_unc
    from rows_wanted
    left join warehouse
        on rows_wanted.product = warehouse.product
        and rows_wanted.experiment = warehouse.experiment
        and rows_wanted.unit = warehouse.unit
        and rows_wanted.is_mean = warehouse.is_mean
        and rows_wanted.year is not distinct from warehouse.year
    left join grid
        on rows_wanted.experiment = grid.experiment
        and rows_wanted.unit = grid.unit
        and rows_wanted.is_mean = grid.is_mean
        and rows_wanted.year is not distinct from grid.year
)

select * from final
