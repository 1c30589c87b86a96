{{ config(post_hook=["create index on {{ this }} (cell_id)", "analyze {{ this }}"]) }}

{#- The exact share of each 1° cell inside each region unit, measured on the sphere's equal-area
    projection: a cell covered by one piece counts whole, border cells by the area of their intersection
    (macros/geography.sql: cell_overlap_fractions). -#}

with final as (
    {{ cell_overlap_fractions(ref('int_analysis_grid_candidates'), ref('int_region_pieces_subdivided'),
                              ['scope', 'unit']) }}
)

select cell_id, scope, unit, fraction, area_m2 from final
