"""The one line a failed dbt run becomes: the first failing node and dbt's message about it."""

from sinkload.dbt import failure_detail

GAP = (
    "\x1b[0m03:01:02  \x1b[31mFailure in test layers_tile_national (tests/layers_tile_national.sql)\x1b[0m\n"
    "\x1b[0m03:01:02    Database Error in test layers_tile_national (tests/layers_tile_national.sql)\n"
    "  layer division (units: North, South) does not add up to the national layer in 60 product-months\n"
    "  CONTEXT:  PL/pgSQL function intermediate.fail_check(text) line 3 at RAISE\n"
    "\x1b[0m03:01:02  Done. PASS=5 WARN=0 ERROR=1 SKIP=54 NO-OP=0 TOTAL=60\n"
)


def test_a_failing_test_s_own_message_is_the_line():
    assert failure_detail(GAP, "") == (
        "Failure in test layers_tile_national: layer division (units: North, South) does not add up to the "
        "national layer in 60 product-months")


def test_a_failing_test_without_message_gives_dbt_s_count():
    out = ("03:01:02  Failure in test not_null_x_y (models/x.yml)\n"
           "03:01:02    Got 3 results, configured to fail if != 0\n"
           "03:01:02  Done. PASS=1 WARN=0 ERROR=1\n")
    assert failure_detail(out, "") == "Failure in test not_null_x_y: Got 3 results, configured to fail if != 0"


def test_without_a_failure_block_the_last_error_line_or_stderr():
    assert failure_detail("03:01:02  Done. PASS=1 WARN=0 ERROR=1\n", "") == "Done. PASS=1 WARN=0 ERROR=1"
    assert failure_detail("", "Could not find profile\n") == "Could not find profile"


def test_an_error_before_any_node_ran_gives_its_kind_and_message():
    stdout = ("\x1b[0m06:38:00  Found 70 models, 177 data tests\n\x1b[0m06:38:00  Encountered an error:\n"
              "Runtime Error\n  'bogus_method' is not a valid method name\n")
    assert failure_detail(stdout, "") == "Runtime Error: 'bogus_method' is not a valid method name"
