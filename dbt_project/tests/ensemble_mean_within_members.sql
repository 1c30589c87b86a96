-- The computed ensemble mean of a cell and month lies between its members' smallest and largest values.
-- Checked for the ensemble means written since the last publication (macros/tests/where_subquery.sql): a
-- mean is rewritten whenever a member of its month changes, the others were checked when published.
with written as (
    select product, month, cell_id, sink_gc_m2
    from {{ ref('int_flux_cell_months_with_ensemble') }}
    where member = 'ensemble_mean' and {{ written_since_publication() }}
),

written_months as (
    select distinct product, month from written
),

members as (
    select cells.product, cells.month, cells.cell_id, min(cells.sink_gc_m2) as lowest, max(cells.sink_gc_m2) as highest
    from {{ ref('int_flux_cell_months_with_ensemble') }} as cells
    inner join written_months on cells.product = written_months.product and cells.month = written_months.month
    where cells.member <> 'ensemble_mean'
    group by 1, 2, 3
)

select written.*
from written
inner join members using (product, month, cell_id)
where written.sink_gc_m2 < members.lowest - 1e-9 * (abs(members.lowest) + 1)
    or written.sink_gc_m2 > members.highest + 1e-9 * (abs(members.highest) + 1)
