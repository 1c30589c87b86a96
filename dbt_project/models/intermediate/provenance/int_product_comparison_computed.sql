{#- Any two products of the same comparison family (catalog `comparison_family`), per scope and unit: each
    product's headline mean annual sink (the ensemble_mean member of an ensemble product, else its member),
    its members' spread (min..max of the members' own mean_pgc_yr; a single-model product is a point), the
    difference b - a and whether the two min..max ranges overlap. -#}

with products as (
    select products.product, products.is_ensemble, catalog_fields.comparison_family
    from {{ ref('stg_raw__products') }} as products
    inner join {{ ref('stg_raw__product_families') }} as catalog_fields
        on products.product_id = catalog_fields.product_id
    where catalog_fields.comparison_family is not null
),

summary as (
    select product, member, scope, unit, first_year, last_year, mean_pgc_yr from {{ ref('int_sink_unit_summary') }}
),

spread as (
    select * from {{ ref('int_ensemble_spread_computed') }}
),

headline as (
    select
        products.comparison_family,
        summary.product,
        summary.scope,
        summary.unit,
        min(summary.first_year) as first_year,
        max(summary.last_year) as last_year,
        avg(summary.mean_pgc_yr) as mean_pgc_yr
    from summary
    inner join products on summary.product = products.product
    where (products.is_ensemble and summary.member = 'ensemble_mean') or not products.is_ensemble
    group by 1, 2, 3, 4
),

per_product as (
    select
        headline.comparison_family,
        headline.product,
        headline.scope,
        headline.unit,
        headline.first_year,
        headline.last_year,
        headline.mean_pgc_yr,
        coalesce(spread.n_members, 1) as n_members,
        spread.member_sd_pgc_yr,
        coalesce(spread.member_min_pgc_yr, headline.mean_pgc_yr) as member_min_pgc_yr,
        coalesce(spread.member_max_pgc_yr, headline.mean_pgc_yr) as member_max_pgc_yr
    from headline
    left join spread
        on headline.product = spread.product and headline.scope = spread.scope and headline.unit = spread.unit
),

final as (
    select
        a.comparison_family as family,
        a.scope,
        a.unit,
        a.product as product_a,
        b.product as product_b,
        a.first_year as a_first_year,
        a.last_year as a_last_year,
        b.first_year as b_first_year,
        b.last_year as b_last_year,
        a.mean_pgc_yr as a_mean_pgc_yr,
        b.mean_pgc_yr as b_mean_pgc_yr,
        b.mean_pgc_yr - a.mean_pgc_yr as difference_pgc_yr,
        a.n_members as a_n_members,
        b.n_members as b_n_members,
        a.member_sd_pgc_yr as a_member_sd_pgc_yr,
        b.member_sd_pgc_yr as b_member_sd_pgc_yr,
        a.member_min_pgc_yr as a_member_min_pgc_yr,
        a.member_max_pgc_yr as a_member_max_pgc_yr,
        b.member_min_pgc_yr as b_member_min_pgc_yr,
        b.member_max_pgc_yr as b_member_max_pgc_yr,
        a.member_min_pgc_yr <= b.member_max_pgc_yr
        and b.member_min_pgc_yr <= a.member_max_pgc_yr as spreads_overlap
    from per_product as a
    inner join per_product as b
        on a.comparison_family = b.comparison_family
        and a.scope = b.scope
        and a.unit = b.unit
        and a.product < b.product
)

select * from final
