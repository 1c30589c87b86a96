{#- Incremental models keyed by what changed (docs/architecture.md "Incremental models"). Every such model
    stores, per row, the version of its key's inputs (`source_version`, a uuid: an md5 of the month's digest, or
    of the versions a key depends on) and a fingerprint of everything else its values depend on
    (`inputs_fingerprint`). Before an incremental run the rows whose key no longer has that version, or whose
    fingerprint differs, are deleted (`incremental_forget_stale`, a pre-hook); the model then computes only
    the keys left without rows (`incremental_keys_to_build`). So a build does the work of what changed since
    the last build that completed the model, whatever happened in between (failed or killed builds
    included), and a key whose raw data left (a batch deleted, a month out of the period) leaves the model. -#}

{#- A version (`source_version`) as 16 bytes: the md5 of `text`, as a uuid. (A month's sha256 digest kept as
    text would be 65 of a cell-month row's ~150 bytes; an md5 still tells two versions apart.) -#}
{% macro version_of(text) -%}
    md5({{ text }})::uuid
{%- endmacro %}

{#- dbt's checksums of this model's SQL and of the models and sources it reads, as one sorted string. -#}
{% macro model_checksums() -%}
    {%- set checksums = [] -%}
    {%- if execute -%}
        {%- for node_id in [model.unique_id] + model.depends_on.nodes -%}
            {%- set node = graph.nodes.get(node_id) -%}
            {%- if node is not none -%}{%- do checksums.append(node_id ~ '=' ~ node.checksum.checksum) -%}{%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{- checksums | sort | join(",") -}}
{%- endmacro %}

{#- The fingerprint of a model's inputs other than its keys' versions, as a uuid (an md5): `contents` are
    SQL expressions (scalar subqueries) over what the values depend on, plus the model's SQL checksums. A
    change of any of them makes the next incremental run rebuild every row. -#}
{% macro inputs_fingerprint(contents) -%}
    (select md5(
        {%- for content in contents %}
        coalesce(({{ content }})::text, '') || '|' ||
        {%- endfor %}
        '{{ model_checksums() }}'
    )::uuid)
{%- endmacro %}

{#- The fingerprint an upstream incremental model stored (every row of it carries the same one). -#}
{% macro upstream_fingerprint(relation) -%}
    (select inputs_fingerprint from {{ relation }} limit 1)
{%- endmacro %}

{#- md5 of a (small) relation's listed columns, row order independent: geography a model depends on. -#}
{% macro content_md5(relation, columns, where='true') -%}
    (select md5(coalesce(string_agg(concat_ws(':', {{ columns | join(', ') }}), ',' order by {{ columns | join(', ') }}), ''))
     from {{ relation }} where {{ where }})
{%- endmacro %}

{#- Pre-hook: delete every row when the fingerprint changed (all rows carry the same one: a run deletes all or
    writes with the current one), then the rows whose key no longer has the version `current_keys` lists for
    it (replaced, deleted, out of the period). The stale keys are found among the distinct (key, version)
    stored, read from the index on the key and version (stored_key_versions: one probe per key, where a
    scan of every row's version costs the size of the table), written to a temporary table and deleted by
    key. A table written before the model kept versions, or kept them as text (the digests themselves), is
    emptied, its version column made a uuid. -#}
{% macro incremental_forget_stale(current_keys, key_columns, fingerprint, version_column='source_version') -%}
    {%- if execute and is_incremental() -%}
        {%- set stored_columns = adapter.get_columns_in_relation(this) -%}
        {%- set columns = stored_columns | map(attribute='name') | list -%}
        {%- set version_types = stored_columns | selectattr('name', 'equalto', version_column)
                                               | map(attribute='dtype') | list -%}
        {%- set stale_keys = 'pg_temp."' ~ this.identifier ~ '__stale_keys"' -%}
        {%- set key_version = key_columns + [version_column] -%}
        {%- if 'inputs_fingerprint' not in columns or version_types != ['uuid'] -%}
            truncate {{ this }}
            {%- if version_types -%}
            ; alter table {{ this }} alter column {{ version_column }} type uuid using null
            {%- endif -%}
        {%- else -%}
            delete from {{ this }}
            where (select inputs_fingerprint from {{ this }} limit 1) is distinct from {{ fingerprint }};
            drop table if exists {{ stale_keys }};
            create temporary table {{ stale_keys }} on commit drop as
            select stored_keys.*
            from (
                {%- if run_query("select " ~ index_exists(key_version)).rows[0][0] %}
                {{ stored_key_versions(key_version) }}
                {%- else %}
                {#- indexed before the index took the version: one scan (this run's post-hook adds the index) #}
                select distinct {{ key_version | join(', ') }} from {{ this }}
                {%- endif %}
            ) as stored_keys
            where not exists (
                select 1 from ({{ current_keys }}) as current_keys
                where
                {%- for column in key_version %}
                    current_keys.{{ column }} = stored_keys.{{ column }}{{ " and" if not loop.last }}
                {%- endfor %}
            );
            analyze {{ stale_keys }};
            delete from {{ this }} as stored
            using {{ stale_keys }} as stale_keys
            where
            {%- for column in key_version %}
                stored.{{ column }} = stale_keys.{{ column }}{{ " and" if not loop.last }}
            {%- endfor %}
        {%- endif -%}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- The distinct values of `columns` (the key and version) the model stores, by a skip scan of its index on
    them (a recursive walk: each step is one probe for the next greater tuple). -#}
{% macro stored_key_versions(columns) -%}
    {%- set listed = columns | join(', ') -%}
    with recursive stored_keys as (
        (select {{ listed }} from {{ this }} order by {{ listed }} limit 1)
        union all
        select next_key.*
        from stored_keys
        cross join lateral (
            select {% for column in columns %}stored.{{ column }}{{ ", " if not loop.last }}{% endfor %}
            from {{ this }} as stored
            where ({% for column in columns %}stored.{{ column }}{{ ", " if not loop.last }}{% endfor %})
                > ({% for column in columns %}stored_keys.{{ column }}{{ ", " if not loop.last }}{% endfor %})
            order by {{ listed }}
            limit 1
        ) as next_key
    )
    select * from stored_keys
{%- endmacro %}

{#- The keys of `current_keys` (with their version) that the model holds no row of: what this run computes
    (every key when the model is built from scratch). One probe of the key index per key (a `not exists`
    lets the planner turn it into an anti join that reads the whole index). -#}
{% macro incremental_keys_to_build(current_keys, key_columns) -%}
    select current_keys.*
    from ({{ current_keys }}) as current_keys
    {%- if is_incremental() %}
    where (
        select true from {{ this }} as stored
        where
        {%- for column in key_columns %}
            stored.{{ column }} = current_keys.{{ column }}{{ " and" if not loop.last }}
        {%- endfor %}
        limit 1
    ) is null
    {%- endif %}
{%- endmacro %}

{#- The temporary table (dropped at the model's commit) of the keys this run computes. -#}
{% macro keys_to_build_relation() -%}
    pg_temp."{{ this.identifier }}__keys_to_build"
{%- endmacro %}

{#- Pre-hook (after incremental_forget_stale): the keys this run computes, written to keys_to_build_relation()
    and analyzed, for the model to read with `keys_to_build as ({{ keys_to_build() }})`. The planner then knows
    how many keys there are: a hundred keys are read through the upstream key index, all of them by a scan.
    (Estimated from the raw keys instead, the planner expects thousands of keys whatever the change, and reads
    the whole upstream table for a few of them, or probes it once per upstream row.) -#}
{% macro incremental_plan_keys(current_keys, key_columns) -%}
    drop table if exists {{ keys_to_build_relation() }};
    create temporary table {{ keys_to_build_relation() }} on commit drop as
    {{ incremental_keys_to_build(current_keys, key_columns) }};
    analyze {{ keys_to_build_relation() }}
{%- endmacro %}

{% macro keys_to_build() -%}
    select * from {{ keys_to_build_relation() }}
{%- endmacro %}

{#- Whether the model has an index on exactly `columns` (in that order), as a SQL condition. -#}
{% macro index_exists(columns) -%}
    exists (
        select 1 from pg_index
        where indrelid = '{{ this.schema }}.{{ this.identifier }}'::regclass
            and (select array_agg(attribute.attname::text order by key.position)
                 from unnest(pg_index.indkey) with ordinality as key (attnum, position)
                 inner join pg_attribute as attribute
                     on attribute.attrelid = pg_index.indrelid and attribute.attnum = key.attnum)
                = array['{{ columns | join("', '") }}']
    )
{%- endmacro %}

{#- Post-hook: an incremental model's index on `columns`, created once (incremental runs keep the table). -#}
{% macro incremental_index(columns) -%}
    do $incremental_index$
    begin
        if not {{ index_exists(columns) }} then
            create index on {{ this }} ({{ columns | join(', ') }});
        end if;
    end
    $incremental_index$
{%- endmacro %}

{#- The (product, member, month) of the flux in the period with their ids and version (the month's digest). -#}
{% macro flux_member_months() -%}
    select
        products.product_id,
        products.product,
        products.is_ensemble,
        members.member_id,
        members.member,
        raw_keys.month,
        raw_keys.source_version
    from ({{ harmonisation_raw_keys() }}) as raw_keys
    inner join {{ ref('stg_raw__products') }} as products on raw_keys.product_id = products.product_id
    inner join {{ ref('stg_raw__members') }} as members on raw_keys.member_id = members.member_id
{%- endmacro %}

{#- The keys (product, member, month) of int_flux_cell_months_with_ensemble and of the models keyed like it,
    with their version: a member's month is its digest; the computed ensemble_mean of an ensemble product's
    month depends on the digests of all its members that month. -#}
{% macro flux_month_versions() -%}
    with member_months as (
        {{ flux_member_months() }}
    )
    select product, member, month, source_version from member_months
    union all
    select product, 'ensemble_mean', month, {{ version_of("string_agg(member || '=' || source_version, ',' order by member)") }}
    from member_months
    where is_ensemble
    group by product, month
{%- endmacro %}

{#- The keys (product, member) of the per-member models over the whole period (e.g. cell means), with the
    versions of all their months. -#}
{% macro flux_member_versions() -%}
    select product, member, {{ version_of("string_agg(month || '=' || source_version, ',' order by month)") }} as source_version
    from ({{ flux_month_versions() }}) as month_versions
    group by product, member
{%- endmacro %}

{#- int_flux_cell_months_with_ensemble's fingerprint: the harmonised model's and its own SQL. -#}
{% macro with_ensemble_fingerprint() -%}
    {{ inputs_fingerprint([upstream_fingerprint(ref('int_flux_cell_months_harmonised'))]) }}
{%- endmacro %}

{#- The rows of int_flux_cell_months_with_ensemble of the CTE keys_to_build (keyed by `key_columns`), with
    their version. -#}
{% macro cell_months_to_build(key_columns=['product', 'member', 'month']) -%}
    select cell_months.product, cell_months.member, cell_months.month, cell_months.cell_id, cell_months.sink_gc_m2,
        keys_to_build.source_version
    from {{ ref('int_flux_cell_months_with_ensemble') }} as cell_months
    inner join keys_to_build
        on
        {%- for column in key_columns %}
            cell_months.{{ column }} = keys_to_build.{{ column }}{{ " and" if not loop.last }}
        {%- endfor %}
{%- endmacro %}

{#- The (cell_id, sink_gc_m2) of int_flux_cell_months_with_ensemble of the key `keys_to_build` (product, member,
    month), for a `cross join lateral` over keys_to_build: the models downstream aggregate key by key, each
    key's cells read through the key index (a few groups per key, where one aggregate over all the keys
    would be sorted, the planner expecting as many groups as rows). -#}
{% macro cell_months_of_key() -%}
    (
        select stored.cell_id, stored.sink_gc_m2
        from {{ ref('int_flux_cell_months_with_ensemble') }} as stored
        where stored.product = keys_to_build.product
            and stored.member = keys_to_build.member
            and stored.month = keys_to_build.month
    )
{%- endmacro %}

{#- Fingerprints of the models downstream of the cell-months: the cell-months' own and the weights used. -#}
{% macro unit_weights_fingerprint() -%}
    {{ inputs_fingerprint([upstream_fingerprint(ref('int_flux_cell_months_with_ensemble')),
                           content_md5(ref('int_unit_cell_weights'), ['scope', 'unit', 'cell_id', 'weight_m2'])]) }}
{%- endmacro %}

{% macro zonal_weights_fingerprint() -%}
    {{ inputs_fingerprint([upstream_fingerprint(ref('int_flux_cell_months_with_ensemble')),
                           content_md5(ref('int_unit_cell_weights'), ['cell_id', 'weight_m2'], "scope = 'national'"),
                           content_md5(ref('int_analysis_cells'), ['cell_id', 'lat'])]) }}
{%- endmacro %}

{% macro method_weights_fingerprint() -%}
    {{ inputs_fingerprint([upstream_fingerprint(ref('int_flux_cell_months_with_ensemble')),
                           content_md5(ref('int_unit_cell_weights_by_method'), ['method', 'scope', 'unit', 'cell_id', 'weight_m2'])]) }}
{%- endmacro %}

{% macro cell_means_fingerprint() -%}
    {{ inputs_fingerprint([upstream_fingerprint(ref('int_flux_cell_months_with_ensemble')),
                           content_md5(ref('int_analysis_cells'), ['cell_id', 'lon', 'lat'])]) }}
{%- endmacro %}

{#- Post-hook: `analyze` the model when this run wrote a fifth of its keys or more (always when built from
    scratch). Fewer keys, rewritten with the same shape, barely move the statistics the plans use; autovacuum
    analyzes the table after the commit when enough rows changed. -#}
{% macro incremental_analyze(current_keys) -%}
    {%- if is_incremental() -%}
    do $incremental_analyze$
    begin
        if (select count(*) from {{ keys_to_build_relation() }}) * 5
                >= (select count(*) from ({{ current_keys }}) as current_keys) then
            analyze {{ this }};
        end if;
    end
    $incremental_analyze$
    {%- else -%}
    analyze {{ this }}
    {%- endif -%}
{%- endmacro %}

{#- The config of an incremental model keyed by `key_columns`, whose current keys and versions are the macro
    named `current_keys` and whose fingerprint is the macro named `fingerprint`, indexed on its key and version (the
    skip scan of incremental_forget_stale, the probes of the key) and on each
    column list of `indexes`: `{{ config(**incremental_config(...)) }}`. The pre-hooks delete what is stale and
    write the keys to build, then run the macros named in `checks` (which may read the keys table and raise);
    the model computes exactly the keys without rows, so the new rows are appended (dbt's delete+insert would
    look for rows of those keys again). -#}
{% macro incremental_config(current_keys, key_columns, fingerprint, indexes=[], checks=[]) -%}
    {%- set keys = current_keys ~ "()" -%}
    {%- set post_hooks = [] -%}
    {%- for columns in [key_columns + ['source_version']] + indexes -%}
        {%- do post_hooks.append("{{ incremental_index(" ~ columns ~ ") }}") -%}
    {%- endfor -%}
    {%- do post_hooks.append("{{ incremental_analyze(" ~ keys ~ ") }}") -%}
    {%- set pre_checks = [] -%}
    {%- for check in checks -%}
        {%- do pre_checks.append("{{ " ~ check ~ "() }}") -%}
    {%- endfor -%}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'append',
        'on_schema_change': 'append_new_columns',
        'pre_hook': ["{{ incremental_forget_stale(" ~ keys ~ ", " ~ key_columns ~ ", " ~ fingerprint ~ "()) }}",
                     "{{ incremental_plan_keys(" ~ keys ~ ", " ~ key_columns ~ ") }}"] + pre_checks,
        'post_hook': post_hooks,
    }) }}
{%- endmacro %}

{#- The config of a model keyed like int_flux_cell_months_with_ensemble whose fingerprint is the macro named
    `fingerprint`: `{{ config(**incremental_by_month(...)) }}`. -#}
{% macro incremental_by_month(fingerprint) -%}
    {{ return(incremental_config('flux_month_versions', ['product', 'member', 'month'], fingerprint)) }}
{%- endmacro %}
