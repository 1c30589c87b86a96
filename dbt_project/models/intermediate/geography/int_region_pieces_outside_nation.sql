{{ config(post_hook=["create index on {{ this }} using gist (geom_cea)", "analyze {{ this }}"]) }}

{#- The part of each region piece (every scope but national) outside the national layer, for the pieces
    that have one (macros/geography.sql: part_not_covered). -#}

{%- set pieces = ref('int_region_pieces_subdivided') %}

with unit_pieces as (
    select piece_id, scope, unit, geom_cea from {{ pieces }} where scope <> 'national'
),

outside as (
    select
        unit_pieces.piece_id,
        unit_pieces.scope,
        unit_pieces.unit,
        {{ part_not_covered('unit_pieces.geom_cea', pieces, "p.scope = 'national'") }} as geom_cea
    from unit_pieces
)

select piece_id, scope, unit, geom_cea from outside where not st_isempty(geom_cea)
