{#- The products in the warehouse, from the catalog fields recorded at load time and what is loaded. -#}

with products as (
    select product_id, product, family, kind, release, experiment, is_ensemble
    from {{ ref('stg_raw__products') }}
),

catalog_fields as (
    select product_id, comparison_family, description from {{ ref('stg_raw__product_families') }}
),

members as (
    select product_id, count(*) as n_members, array_agg(member order by member) as members
    from {{ ref('stg_raw__members') }}
    group by 1
),

months as (
    select product_id, min(month) as first_month, max(month) as last_month
    from {{ ref('stg_raw__flux_tiles') }}
    group by 1
),

grids as (
    select
        batches.product_id,
        min(grids.dx) as native_dx_deg,
        min(grids.dy) as native_dy_deg,
        count(distinct grids.grid_id) as n_grids
    from {{ ref('stg_raw__load_batches') }} as batches
    inner join {{ ref('stg_raw__grids') }} as grids on batches.grid_id = grids.grid_id
    group by 1
),

final as (
    select
        products.product,
        products.kind,
        catalog_fields.comparison_family as family,
        products.family as reader,
        products.release,
        products.experiment,
        products.is_ensemble,
        catalog_fields.description,
        coalesce(members.n_members, 0) as n_members,
        members.members,
        months.first_month,
        months.last_month,
        grids.native_dx_deg,
        grids.native_dy_deg,
        grids.n_grids
    from products
    left join catalog_fields on products.product_id = catalog_fields.product_id
    left join members on products.product_id = members.product_id
    left join months on products.product_id = months.product_id
    left join grids on products.product_id = grids.product_id
)

select * from final
