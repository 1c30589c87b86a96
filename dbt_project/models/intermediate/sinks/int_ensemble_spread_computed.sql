{#- Spread between the members of each ensemble product, per unit: statistics over the members' own mean
    annual sinks (never over a gridded spread; the computed ensemble_mean is not a member). -#}

with summaries as (
    select product, member, scope, unit, mean_pgc_yr
    from {{ ref('int_sink_unit_summary') }}
    where member <> 'ensemble_mean'
),

ensemble_products as (
    select product from {{ ref('stg_raw__products') }} where is_ensemble
),

final as (
    select
        summaries.product,
        summaries.scope,
        summaries.unit,
        count(*) as n_members,
        avg(summaries.mean_pgc_yr) as member_mean_pgc_yr,
        stddev_samp(summaries.mean_pgc_yr) as member_sd_pgc_yr,
        min(summaries.mean_pgc_yr) as member_min_pgc_yr,
        max(summaries.mean_pgc_yr) as member_max_pgc_yr
    from summaries
    inner join ensemble_products on summaries.product = ensemble_products.product
    group by 1, 2, 3
)

select * from final
