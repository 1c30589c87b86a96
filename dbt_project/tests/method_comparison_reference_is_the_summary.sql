-- marts.method_comparison's reference method (exact_overlap) reproduces sink_summary's mean_pgc_yr.
select comparison.product, comparison.member, comparison.scope, comparison.unit
from {{ ref('int_method_comparison') }} as comparison
full join {{ ref('int_sink_unit_summary') }} as summary
    on comparison.product = summary.product
    and comparison.member = summary.member
    and comparison.scope = summary.scope
    and comparison.unit = summary.unit
where (comparison.method = 'exact_overlap' or comparison.method is null)
    and (comparison.mean_pgc_yr is null or summary.mean_pgc_yr is null
        or abs(comparison.mean_pgc_yr - summary.mean_pgc_yr) > 1e-9 * (abs(summary.mean_pgc_yr) + 1e-9))
