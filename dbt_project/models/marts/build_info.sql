{#- The published build: which build the mart views show, what built it and how many rows each view has. -#}

with published as (
    {{ latest_publication() }}
),

metadata as (
    select * from {{ ref('int_build_metadata') }}
),

final as (
    select
        published.build_id,
        metadata.started_at,
        published.published_at as finished_at,
        metadata.sinkload_version,
        metadata.git_commit,
        metadata.dbt_version,
        metadata.period_start_year,
        metadata.period_end_year,
        metadata.dbt_vars,
        jsonb_build_object(
            {%- for model_name, view in published_models().items() %}
            '{{ view }}', (
                select count(*) from {{ ref(model_name) }}
                where build_id = (
                    select model_build_id from {{ ref('int_publication') }}
                    where build_id = published.build_id and model = '{{ model_name }}'
                )
            ){{ "," if not loop.last }}
            {%- endfor %}
        ) as view_row_counts
    from published
    left join metadata on published.build_id = metadata.build_id
)

select * from final
