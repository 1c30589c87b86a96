"""The dbt process started ahead of its command (sinkload.dbt.runner.DbtProcess, sinkload.dbt.worker)."""

from __future__ import annotations

import time

import psutil
import pytest

from sinkload.db.warehouse import Warehouse
from sinkload.dbt.runner import DbtFailed, DbtProcess, run_dbt


def test_a_command_sent_later_runs_as_the_dbt_script_would(settings):
    with DbtProcess() as dbt:
        time.sleep(0.5)  # the caller's own work while dbt imports
        listed = run_dbt(Warehouse.of(settings), ["ls", "--resource-type", "model", "--output", "name"],
                         process=dbt)
    assert listed.returncode == 0
    assert "int_flux_cell_months_harmonised" in listed.stdout.split()


def test_a_failing_command_is_one_line(settings):
    with DbtProcess() as dbt, pytest.raises(DbtFailed) as failed:
        run_dbt(Warehouse.of(settings), ["run-operation", "no_such_macro_here"], process=dbt)
    message = str(failed.value)
    assert "\n" not in message and "no_such_macro_here" in message, message


def test_an_unused_process_is_stopped():
    with DbtProcess() as dbt:
        worker = psutil.Process(dbt.pid)
        assert worker.is_running()
    assert not worker.is_running()


def test_a_process_runs_one_command(settings):
    with DbtProcess() as dbt:
        run_dbt(Warehouse.of(settings), ["ls", "--resource-type", "model"], process=dbt)
        with pytest.raises(RuntimeError):
            run_dbt(Warehouse.of(settings), ["ls"], process=dbt)


def test_a_process_asked_not_to_start_starts_with_its_command(settings):
    with DbtProcess(start=False) as dbt:
        assert not dbt.started
        listed = run_dbt(Warehouse.of(settings), ["ls", "--resource-type", "model", "--output", "name"],
                         process=dbt)
        assert dbt.started
    assert "int_flux_cell_months_harmonised" in listed.stdout.split()


def test_a_process_never_started_leaves_nothing_to_stop():
    with DbtProcess(start=False) as dbt:
        pass
    assert not dbt.started
