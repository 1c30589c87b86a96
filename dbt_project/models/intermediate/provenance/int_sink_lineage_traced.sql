{#- Per product, member and month: the file behind the stored values, as loaded (raw.load_batch); the
    published copy adds the build that wrote it. The computed member `ensemble_mean` lists the files of every member
    (`source_member` names the member whose file it is). -#}

with tiles as (
    select distinct product_id, member_id, month, batch_id
    from {{ ref('stg_raw__flux_tiles') }}
),

products as (
    select product_id, product, is_ensemble from {{ ref('stg_raw__products') }}
),

members as (
    select member_id, member from {{ ref('stg_raw__members') }}
),

batches as (
    select * from {{ ref('stg_raw__load_batches') }}
),

member_months as (
    select products.product, members.member, members.member as source_member, tiles.month, tiles.batch_id
    from tiles
    inner join products on tiles.product_id = products.product_id
    inner join members on tiles.member_id = members.member_id
),

ensemble_months as (
    select member_months.product, 'ensemble_mean' as member, member_months.source_member, member_months.month,
        member_months.batch_id
    from member_months
    inner join products on member_months.product = products.product
    where products.is_ensemble
),

final as (
    select
        lineage.product,
        lineage.member,
        lineage.month,
        lineage.source_member,
        batches.file_name,
        batches.sha256,
        batches.size_bytes,
        batches.units_found,
        batches.units_assumed,
        batches.parsed_unit,
        batches.factor_applied,
        batches.sign_applied,
        batches.loader_version,
        batches.batch_id,
        batches.loaded_at
    from (select * from member_months union all select * from ensemble_months) as lineage
    inner join batches on lineage.batch_id = batches.batch_id
)

select * from final
