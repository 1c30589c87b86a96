{#- Per product, member and month: the file behind the stored values and the build that published them
    (the published copy of int_sink_lineage_traced). -#}

with published as (
    {{ published_rows('int_sink_lineage_published') }}
),

publication as (
    select model_build_id, min(published_at) as published_at
    from {{ ref('int_publication') }}
    where model = 'int_sink_lineage_published'
    group by model_build_id
),

final as (
    select
        published.product,
        published.member,
        published.month,
        published.source_member,
        published.file_name,
        published.sha256,
        published.size_bytes,
        published.units_found,
        published.units_assumed,
        published.parsed_unit,
        published.factor_applied,
        published.sign_applied,
        published.loader_version,
        published.batch_id,
        published.loaded_at,
        published.build_id,
        publication.published_at
    from published
    left join publication on published.build_id = publication.model_build_id
)

select * from final
