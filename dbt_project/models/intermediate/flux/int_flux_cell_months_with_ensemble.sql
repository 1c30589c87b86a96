{{ config(
    post_hook=["create index on {{ this }} (product, member, cell_id)", "analyze {{ this }}"]
) }}

{#- The harmonised members by name, plus the computed member `ensemble_mean` of each ensemble product:
    per 1° cell and month, the mean over the members that have a value there. -#}

with harmonised as (
    select * from {{ ref('int_flux_cell_months_harmonised') }}
),

products as (
    select product_id, product, is_ensemble from {{ ref('stg_raw__products') }}
),

members as (
    select member_id, member from {{ ref('stg_raw__members') }}
),

named as (
    select
        products.product,
        members.member,
        harmonised.month,
        harmonised.cell_id,
        harmonised.sink_gc_m2,
        products.is_ensemble
    from harmonised
    inner join products on harmonised.product_id = products.product_id
    inner join members on harmonised.member_id = members.member_id
),

ensemble_mean as (
    select
        product,
        'ensemble_mean' as member,
        month,
        cell_id,
        avg(sink_gc_m2) as sink_gc_m2
    from named
    where is_ensemble
    group by product, month, cell_id
),

final as (
    select product, member, month, cell_id, sink_gc_m2 from named
    union all
    select product, member, month, cell_id, sink_gc_m2 from ensemble_mean
)

select * from final
