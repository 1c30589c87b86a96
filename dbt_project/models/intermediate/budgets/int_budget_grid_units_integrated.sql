{#- The gridded national budget (NBE, g CO2 m-2 yr-1, positive = to the atmosphere) integrated over each unit
    of the warehouse's national layer with the exact 1-degree cell weights of the marts (each cell's area
    inside the unit, the design's sphere): Tg CO2 per year. Array element cell_id + 1 is 1-degree cell
    cell_id (rows from the south, columns from -180), so no spatial join is needed. -#}

with grids as (
    select experiment, year, nbe_gco2_m2_yr from {{ ref('stg_raw__budget_grids') }}
),

fractions as (
    select cell_id, unit, area_m2
    from {{ ref('int_analysis_cell_region_fractions') }}
    where scope = 'national'
),

cell_values as (
    select
        grids.experiment,
        grids.year,
        fractions.unit,
        fractions.area_m2,
        grids.nbe_gco2_m2_yr[fractions.cell_id + 1] as nbe_gco2_m2_yr
    from grids
    cross join fractions
),

final as (
    select
        experiment,
        year,
        unit,
        case when count(nbe_gco2_m2_yr) > 0 then sum(nbe_gco2_m2_yr * area_m2) / 1e12 end as nbe_tgco2_yr,
        count(nbe_gco2_m2_yr) as n_valid_cells,
        count(*) as n_cells
    from cell_values
    group by 1, 2, 3
)

select * from final
