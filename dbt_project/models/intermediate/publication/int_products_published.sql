{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    post_hook=["create index if not exists {{ this.name }}_build_idx on {{ this }} (build_id)"]
) }}

{{ publish(ref('int_products_listed')) }}
