{#- Incremental harmonisation (models/intermediate/flux/int_flux_cell_months_harmonised.sql, docs/architecture.md),
    by the mechanism of macros/incremental.sql: its version column `source_version` is the stored month's content
    digest (raw.flux_tile.month_digest), not the batch: a newer file whose month holds the same values re-points
    the tiles to its batch, and the month is not recomputed. -#}

{#- The inputs of harmonisation other than the tiles (macros/incremental.sql): the analysis cells, the
    native grids, the sphere's radius and the SQL of this model and of the models it reads. The period is
    not part of it: a month's values do not depend on it, only which months are kept (rows of months outside
    the period are deleted as stale). -#}
{% macro harmonisation_fingerprint() -%}
    {{ inputs_fingerprint([
        content_md5(ref('int_analysis_cells'), ['cell_id']),
        content_md5(ref('stg_raw__grids'), ['grid_id', 'west', 'north', 'dx', 'dy', 'nx', 'ny']),
        "'" ~ var('earth_radius_m') ~ "'",
    ]) }}
{%- endmacro %}

{#- int_native_to_analysis_overlaps' inputs: the native grids, the analysis cells, the sphere's radius and the
    SQL of the model and of the models it reads (macros/incremental.sql rebuild_on_change_config). -#}
{% macro overlaps_fingerprint() -%}
    {{ inputs_fingerprint([
        content_md5(ref('stg_raw__grids'), ['grid_id', 'west', 'north', 'dx', 'dy', 'nx', 'ny']),
        content_md5(ref('int_analysis_cells'), ['cell_id', 'west', 'south']),
        "'" ~ var('earth_radius_m') ~ "'",
    ]) }}
{%- endmacro %}

{#- The (product, member, month) of the tiles in the period with their version (the month's digest): what
    the model should hold. -#}
{% macro harmonisation_raw_keys() -%}
    select distinct product_id, member_id, month, month_digest as source_version
    from {{ ref('stg_raw__flux_tiles') }}
    where month between {{ period_first_month() }} and {{ period_last_month() }}
{%- endmacro %}

{#- Pre-hook: the overlaps of the non-nesting grids as a function the planner takes for one row, so that
    it hashes them rather than the pixels it underestimates (plpgsql: never inlined into the query). -#}
{% macro harmonisation_overlaps_function() -%}
    create or replace function {{ this.schema }}.harmonisation_overlaps()
    returns table (grid_id integer, col integer, "row" integer, cell_id integer, overlap_m2 double precision)
    language plpgsql stable rows 1 as $harmonisation_overlaps$
    begin
        return query select o.grid_id, o.col, o.row, o.cell_id, o.overlap_m2
            from {{ ref('int_native_to_analysis_overlaps') }} as o;
    end
    $harmonisation_overlaps$
{%- endmacro %}
