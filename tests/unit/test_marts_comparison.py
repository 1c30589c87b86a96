"""The comparison that says an incremental build's marts equal a full refresh's (tests/support.py): it must
accept the rounding two summation orders leave and refuse any difference a reader could see."""

import random

from tests.support import PercentDifference, same_values


def test_sums_rounded_in_another_order_are_equal():
    draw = random.Random(1)
    terms = [draw.uniform(-1, 1) for _ in range(5000)]
    as_read, ascending = sum(terms), sum(sorted(terms))
    assert as_read != ascending
    assert same_values(as_read, ascending)


def test_a_changed_sum_is_not_equal():
    assert not same_values(1.0, 1.0 + 1e-9)
    assert not same_values(1e-5, 1.000001e-5)


def test_a_percent_difference_carries_its_operands_rounding():
    # Two methods that agree: their difference is noise whose sign flips between builds.
    assert same_values(PercentDifference(6.3e-13), PercentDifference(-6.3e-13))
    assert not same_values(6.3e-13, -6.3e-13 - 1e-12)
    assert not same_values(PercentDifference(0.0), PercentDifference(1e-8))
    assert not same_values(PercentDifference(2.5), PercentDifference(2.5 * (1 + 1e-9)))


def test_missing_values_are_equal_only_to_missing_values():
    assert same_values(float("nan"), float("nan"))
    assert same_values(None, None)
    assert not same_values(None, 0.0)
