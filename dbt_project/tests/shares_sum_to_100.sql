-- Division and ecosystem shares add up to 100 % per product and member (where every share is defined).
select product, member, scope, sum(share_pct) as total_pct
from {{ ref('int_sink_unit_summary') }}
where scope <> 'national'
group by product, member, scope
having count(share_pct) = count(*) and abs(sum(share_pct) - 100) > 1e-6
