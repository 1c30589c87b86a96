{#- Incremental by (product, member, month) (macros/incremental.sql): a member's month is redone when its
    stored content (raw.flux_tile.month_digest) changed, the ensemble_mean of a product's month when that of
    any of its members that month changed; everything when the harmonised model's fingerprint or this SQL
    changed. Indexed on written_by_build as well: its tests read the rows written since the last publication. -#}
{{ config(**incremental_config('flux_month_versions', ['product', 'member', 'month'], 'with_ensemble_fingerprint',
                              indexes=[['written_by_build']])) }}

{#- The harmonised members by name, plus the computed member `ensemble_mean` of each ensemble product:
    per 1° cell and month, the mean over the members that have a value there. -#}

with keys_to_build as (
    {{ keys_to_build() }}
),

member_months as (
    {{ flux_member_months() }}
),

{#- the member months to write -#}
written_months as materialized (
    select member_months.product_id, member_months.member_id, member_months.month, member_months.product,
        member_months.member, keys_to_build.source_version
    from member_months
    inner join keys_to_build
        on member_months.product = keys_to_build.product
        and member_months.member = keys_to_build.member
        and member_months.month = keys_to_build.month
),

{#- the ensemble means to write: (product, month) by id -#}
ensemble_months as materialized (
    select distinct member_months.product_id, member_months.month, keys_to_build.product, keys_to_build.source_version
    from member_months
    inner join keys_to_build
        on keys_to_build.member = 'ensemble_mean'
        and member_months.product = keys_to_build.product
        and member_months.month = keys_to_build.month
    where member_months.is_ensemble
),

members as (
    select
        written_months.product,
        written_months.member,
        harmonised.month,
        harmonised.cell_id,
        harmonised.sink_gc_m2,
        written_months.source_version
    from {{ ref('int_flux_cell_months_harmonised') }} as harmonised
    inner join written_months
        on harmonised.product_id = written_months.product_id
        and harmonised.member_id = written_months.member_id
        and harmonised.month = written_months.month
),

{#- per cell of those months, the mean over the members with a value (grouped by ids: the rows of every
    member of the product are read) -#}
ensemble_cells as (
    select harmonised.product_id, harmonised.month, harmonised.cell_id, avg(harmonised.sink_gc_m2) as sink_gc_m2
    from {{ ref('int_flux_cell_months_harmonised') }} as harmonised
    where exists (
        select 1 from ensemble_months
        where ensemble_months.product_id = harmonised.product_id and ensemble_months.month = harmonised.month
    )
    group by harmonised.product_id, harmonised.month, harmonised.cell_id
),

ensemble_mean as (
    select
        ensemble_months.product,
        'ensemble_mean' as member,
        ensemble_cells.month,
        ensemble_cells.cell_id,
        ensemble_cells.sink_gc_m2,
        ensemble_months.source_version
    from ensemble_cells
    inner join ensemble_months
        on ensemble_cells.product_id = ensemble_months.product_id
        and ensemble_cells.month = ensemble_months.month
),

final as (
    select product, member, month, cell_id, sink_gc_m2, source_version from members
    union all
    select product, member, month, cell_id, sink_gc_m2, source_version from ensemble_mean
)

select final.*, {{ with_ensemble_fingerprint() }} as inputs_fingerprint, {{ current_build_id() }} as written_by_build
from final
