{{ config(post_hook=["create index on {{ this }} (cell_id)", "analyze {{ this }}"]) }}

{#- Area (m^2 of the sphere) and share of each vegetation group (the map's own code) in each 1° analysis
    cell (macros/geography.sql: cell_overlap_fractions). -#}

with final as (
    {{ cell_overlap_fractions(ref('int_analysis_cells'), ref('int_landcover_pieces_subdivided'), ['code']) }}
)

select cell_id, code, area_m2, fraction from final
