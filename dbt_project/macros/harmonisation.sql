{#- Incremental harmonisation (models/intermediate/flux/int_flux_cell_months_harmonised.sql, docs/architecture.md).
    The model keeps, per row, the raw batch its (product, member, month) came from and a fingerprint of what
    else its values depend on; before an incremental run the rows that no longer match raw or the
    fingerprint are deleted, and the model then harmonises only the (product, member, month) left without
    rows. -#}

{#- The inputs of harmonisation other than the tiles, as a uuid (an md5): the analysis cells, the native
    grids, the sphere's radius and the SQL of this model and of the models it reads (dbt checksums). A
    change of any of them rebuilds every row. The period is not part of it: a month's values do not depend
    on it, only which months are kept (rows of months outside the period are deleted as stale). -#}
{% macro harmonisation_fingerprint() -%}
    {%- set checksums = [] -%}
    {%- if execute -%}
        {%- for node_id in [model.unique_id] + model.depends_on.nodes -%}
            {%- set node = graph.nodes.get(node_id) -%}
            {%- if node is not none -%}{%- do checksums.append(node_id ~ '=' ~ node.checksum.checksum) -%}{%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    (select md5(
        coalesce((select string_agg(cell_id::text, ',' order by cell_id) from {{ ref('int_analysis_cells') }}), '')
        || '|' || coalesce((select string_agg(concat_ws(':', grid_id, west, north, dx, dy, nx, ny), ',' order by grid_id)
                            from {{ ref('stg_raw__grids') }}), '')
        || '|{{ var("earth_radius_m") }}|{{ checksums | sort | join(",") }}'
    )::uuid)
{%- endmacro %}

{#- The (product, member, month, batch) of the tiles in the period: what the model should hold. -#}
{% macro harmonisation_raw_keys() -%}
    select distinct product_id, member_id, month, batch_id
    from {{ ref('stg_raw__flux_tiles') }}
    where month between {{ period_first_month() }} and {{ period_last_month() }}
{%- endmacro %}

{#- Pre-hook of an incremental run: delete the rows whose batch is no longer the one raw holds for their
    (product, member, month) (replaced or deleted, or a month now outside the period), and every row when
    the fingerprint changed. A table written before the model kept its batch ids is emptied. -#}
{% macro harmonisation_forget_stale() -%}
    {%- if execute and is_incremental() -%}
        {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
        {%- if 'inputs_fingerprint' not in columns or 'batch_id' not in columns -%}
            truncate {{ this }}
        {%- else -%}
            delete from {{ this }} as stored
            where stored.inputs_fingerprint is distinct from {{ harmonisation_fingerprint() }}
                or not exists (
                    select 1 from ({{ harmonisation_raw_keys() }}) as current_keys
                    where current_keys.product_id = stored.product_id
                        and current_keys.member_id = stored.member_id
                        and current_keys.month = stored.month
                        and current_keys.batch_id = stored.batch_id
                )
        {%- endif -%}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- Post-hook: the model's one index, created once (an incremental run keeps the table and its index). -#}
{% macro harmonisation_index() -%}
    do $harmonisation_index$
    begin
        if not exists (select 1 from pg_index where indrelid = '{{ this.schema }}.{{ this.identifier }}'::regclass) then
            create index on {{ this }} (product_id, member_id, month, batch_id);
        end if;
    end
    $harmonisation_index$
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
