-- Every layer declared to tile the national layer (stg_raw__region_layers.tiles_national): per product,
-- member and month its units add up to the national sink within 1e-6 of the month's gross cell-by-cell mass
-- (sum of |value| x weight over the nation: the net can be near zero). A failure names the layer, its units
-- and the gap, with the km^2 of the nation in no unit / in more than one (intermediate.fail_check raises).
with tiling_layers as (
    select scope from {{ ref('stg_raw__region_layers') }} where tiles_national
),

unit_months as (
    select product, member, scope, unit, month, sink_tgc
    from {{ ref('int_sink_unit_months_aggregated') }}
),

cell_months as (
    select product, member, month, cell_id, sink_gc_m2
    from {{ ref('int_flux_cell_months_with_ensemble') }}
),

national_weights as (
    select cell_id, weight_m2 from {{ ref('int_unit_cell_weights') }} where scope = 'national'
),

quality as (
    select scope, uncovered_km2, multiply_covered_km2 from {{ ref('int_region_layer_quality') }}
),

gross as (
    select
        cell_months.product,
        cell_months.member,
        cell_months.month,
        sum(abs(cell_months.sink_gc_m2) * national_weights.weight_m2) / 1e12 as gross_tgc
    from cell_months
    inner join national_weights on cell_months.cell_id = national_weights.cell_id
    group by 1, 2, 3
),

national as (
    select product, member, month, sink_tgc as national_tgc from unit_months where scope = 'national'
),

layer_months as (
    select product, member, scope, month, sum(sink_tgc) as units_tgc
    from unit_months
    inner join tiling_layers using (scope)
    group by 1, 2, 3, 4
),

compared as (
    select
        layer_months.scope,
        layer_months.product,
        layer_months.member,
        layer_months.month,
        coalesce(layer_months.units_tgc, 0) as units_tgc,
        coalesce(national.national_tgc, 0) as national_tgc,
        gross.gross_tgc,
        row_number() over (
            partition by layer_months.scope
            order by abs(coalesce(layer_months.units_tgc, 0) - coalesce(national.national_tgc, 0)) desc
        ) as worst
    from layer_months
    inner join national using (product, member, month)
    inner join gross using (product, member, month)
    where abs(coalesce(layer_months.units_tgc, 0) - coalesce(national.national_tgc, 0))
        > 1e-6 * gross.gross_tgc + 1e-12
),

unit_names as (
    select scope, string_agg(unit, ', ' order by unit) as units
    from (select distinct scope, unit from unit_months) as layer_units
    group by scope
),

failures as (
    select
        format(
            'layer %s (units: %s) does not add up to the national layer in %s product-months; worst: %s %s %s,'
            ' units %s Tg C vs national %s Tg C (gap %s Tg C); %s km2 of the nation in no unit, %s km2 in more than one',
            compared.scope, unit_names.units,
            count(*) over (partition by compared.scope),
            compared.product, compared.member, to_char(compared.month, 'YYYY-MM'),
            round(compared.units_tgc::numeric, 6), round(compared.national_tgc::numeric, 6),
            round((compared.national_tgc - compared.units_tgc)::numeric, 6),
            round(quality.uncovered_km2::numeric, 1), round(quality.multiply_covered_km2::numeric, 1)
        ) as message,
        compared.worst
    from compared
    inner join unit_names on compared.scope = unit_names.scope
    left join quality on compared.scope = quality.scope
)

select message
from failures
where case when worst = 1 then intermediate.fail_check(message) else false end
