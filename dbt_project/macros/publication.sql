{#- Publication of the marts (see docs/marts.md): tables behind the views are appended per build and a
    view shows only the newest build recorded in int_publication, so readers see old or new, never a mix,
    and a build that fails before publication leaves the last complete state. -#}

{#- One id per dbt invocation: microseconds since the epoch of run_started_at. -#}
{% macro current_build_id() -%}
    {{ (run_started_at.timestamp() * 1000000) | int }}::bigint
{%- endmacro %}

{#- Body of a published model: the current build's copy of a tested intermediate model. -#}
{% macro publish(relation) -%}
    select {{ current_build_id() }} as build_id, source_rows.*
    from {{ relation }} as source_rows
{%- endmacro %}

{#- The build a mart view shows. -#}
{% macro published_build_id() -%}
    (select max(build_id) from {{ ref('int_publication') }})
{%- endmacro %}

{#- Keep the two newest published builds (the newest, and the one a reader may still be reading). -#}
{% macro prune_published(relations) -%}
    {% for relation in relations %}
        delete from {{ relation }}
        where build_id not in (select build_id from {{ this }} order by build_id desc limit 2);
    {% endfor %}
{%- endmacro %}
