-- The computed ensemble mean of a cell and month lies between its members' smallest and largest values.
with cells as (
    select product, member, month, cell_id, sink_gc_m2
    from {{ ref('int_flux_cell_months_with_ensemble') }}
),

members as (
    select product, month, cell_id, min(sink_gc_m2) as lowest, max(sink_gc_m2) as highest
    from cells
    where member <> 'ensemble_mean'
    group by 1, 2, 3
)

select cells.*
from cells
inner join members using (product, month, cell_id)
where cells.member = 'ensemble_mean'
    and (cells.sink_gc_m2 < members.lowest - 1e-9 * (abs(members.lowest) + 1)
        or cells.sink_gc_m2 > members.highest + 1e-9 * (abs(members.highest) + 1))
