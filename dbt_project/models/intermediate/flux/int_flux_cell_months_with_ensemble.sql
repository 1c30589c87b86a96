{#- Incremental by (product, member, month) (macros/incremental.sql): a member's month is redone when its
    raw batch changed, the ensemble_mean of a product's month when the batch of any of its members that
    month changed; everything when the harmonised model's fingerprint or this SQL changed. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['product', 'member', 'month'],
    on_schema_change='append_new_columns',
    pre_hook=["{{ incremental_forget_stale(flux_month_versions(), ['product', 'member', 'month'],
                                           with_ensemble_fingerprint()) }}"],
    post_hook=["{{ incremental_index(['product', 'member', 'month']) }}", "analyze {{ this }}"]
) }}

{#- The harmonised members by name, plus the computed member `ensemble_mean` of each ensemble product:
    per 1° cell and month, the mean over the members that have a value there. -#}

with keys_to_build as (
    {{ incremental_keys_to_build(flux_month_versions(), ['product', 'member', 'month']) }}
),

member_months as (
    {{ flux_member_months() }}
),

{#- the member months to write, and those an ensemble mean to write reads (a few hundred rows: materialized,
    so that the harmonised rows are joined to a small set rather than filtered row by row) -#}
months_read as materialized (
    select
        member_months.product_id,
        member_months.member_id,
        member_months.month,
        member_months.product,
        member_months.member,
        member_months.is_ensemble,
        written.source_version,
        written.member is not null as is_written
    from member_months
    left join keys_to_build as written
        on member_months.product = written.product
        and member_months.member = written.member
        and member_months.month = written.month
    left join keys_to_build as ensemble
        on ensemble.member = 'ensemble_mean'
        and member_months.is_ensemble
        and member_months.product = ensemble.product
        and member_months.month = ensemble.month
    where written.member is not null or ensemble.member is not null
),

named as (
    select
        months_read.product,
        months_read.member,
        harmonised.month,
        harmonised.cell_id,
        harmonised.sink_gc_m2,
        months_read.is_ensemble,
        months_read.is_written,
        months_read.source_version
    from {{ ref('int_flux_cell_months_harmonised') }} as harmonised
    inner join months_read
        on harmonised.product_id = months_read.product_id
        and harmonised.member_id = months_read.member_id
        and harmonised.month = months_read.month
),

ensemble_mean as (
    select
        named.product,
        'ensemble_mean' as member,
        named.month,
        named.cell_id,
        avg(named.sink_gc_m2) as sink_gc_m2,
        keys_to_build.source_version
    from named
    inner join keys_to_build
        on keys_to_build.member = 'ensemble_mean'
        and named.product = keys_to_build.product
        and named.month = keys_to_build.month
    where named.is_ensemble
    group by named.product, named.month, named.cell_id, keys_to_build.source_version
),

final as (
    select product, member, month, cell_id, sink_gc_m2, source_version from named where is_written
    union all
    select product, member, month, cell_id, sink_gc_m2, source_version from ensemble_mean
)

select final.*, {{ with_ensemble_fingerprint() }} as inputs_fingerprint, {{ current_build_id() }} as written_by_build
from final
