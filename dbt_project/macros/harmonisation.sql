{#- Harmonisation (models/intermediate/flux/int_flux_cell_months_harmonised.sql, docs/architecture.md): the
    definition is src/sinkload/harmonise.py, applied by the loader; its version column `source_version` is the
    stored month's content digest (raw.flux_tile.month_digest, as 16 bytes: month_version), not the batch: a newer file whose month holds
    the same values re-points the tiles (and their 1° harmonisation) to its batch, and the month is not
    recomputed. -#}

{#- The inputs of harmonisation other than the stored months: the analysis cells, the definition's version and
    the SQL of this model and of the models it reads. Neither the native grids (a grid's months are keys of
    their own) nor the sphere's radius (it cancels in a weighted mean) nor the period (a month's values do not
    depend on it, only which months are kept) are part of it. -#}
{% macro harmonisation_fingerprint() -%}
    {{ inputs_fingerprint([
        content_md5(ref('int_analysis_cells'), ['cell_id']),
        "'" ~ var('harmonisation_version') ~ "'",
    ]) }}
{%- endmacro %}

{#- The (product, member, month) of the tiles in the period with their version (the month's digest, month_version): what
    the model should hold. -#}
{% macro harmonisation_raw_keys() -%}
    {#- the digest's md5 taken after the distinct, once per month, not per tile: 16 ms against 71 ms for the
        sample's 66,540 tiles, and every incremental model asks this question three or four times a build -#}
    select product_id, member_id, month, {{ version_of('month_digest') }} as source_version
    from (
        select distinct product_id, member_id, month, month_digest
        from {{ ref('stg_raw__flux_tiles') }}
        where month between {{ period_first_month() }} and {{ period_last_month() }}
    ) as stored_months
{%- endmacro %}

{#- A grid whose cells are the 1° cells (the tolerances of sinkload.harmonise.is_one_degree): its tiles are
    read as they are; every other grid's months come harmonised in raw.flux_month_1deg. -#}
{% macro is_one_degree_grid(grid) -%}
    (abs({{ grid }}.dx - 1) < 1e-9 and abs({{ grid }}.dy - 1) < 1e-9
     and abs({{ grid }}.west - round({{ grid }}.west)) < 1e-6 and abs({{ grid }}.north - round({{ grid }}.north)) < 1e-6)
{%- endmacro %}

{#- Pre-hook (after the keys to build are planned): refuse to build when a key of a grid other than the 1° grid
    has no 1° harmonisation of its digest and of this definition's version in raw (stored before the loader
    wrote them, or by another definition): its cells would quietly be missing. -#}
{% macro harmonisation_check() -%}
    do $harmonisation_check$
    declare
        missing record;
    begin
        select products.product, members.member, keys.month, count(*) over () as n into missing
        from {{ keys_to_build_relation() }} as keys
        inner join {{ ref('stg_raw__products') }} as products on products.product_id = keys.product_id
        inner join {{ ref('stg_raw__members') }} as members on members.member_id = keys.member_id
        cross join lateral (
            select tiles.grid_id from {{ ref('stg_raw__flux_tiles') }} as tiles
            where tiles.member_id = keys.member_id and tiles.month = keys.month
            limit 1
        ) as key_grid
        inner join {{ ref('stg_raw__grids') }} as grids on grids.grid_id = key_grid.grid_id
        where not {{ is_one_degree_grid('grids') }}
            and not exists (
                select from {{ ref('stg_raw__flux_months_1deg') }} as months
                where months.member_id = keys.member_id and months.month = keys.month
                    and months.month_version = keys.source_version
                    and months.harmonisation_version = '{{ var("harmonisation_version") }}')
        order by products.product, members.member, keys.month
        limit 1;
        if found then
            raise exception 'raw.flux_month_1deg lacks the 1° harmonisation (version %) of % stored month(s), '
                'first % % %: run `sinkload reharmonise`', '{{ var("harmonisation_version") }}', missing.n,
                missing.product, missing.member, to_char(missing.month, 'YYYY-MM');
        end if;
    end
    $harmonisation_check$
{%- endmacro %}
