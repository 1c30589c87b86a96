"""dbt: the runner (`runner.py`: a subprocess as the transformer role) and the reload's selection planning
(`selection.py`: which models a change of raw needs rebuilt)."""

from sinkload.dbt.runner import dbt_environment, failure_detail, run_dbt

__all__ = ["dbt_environment", "failure_detail", "run_dbt"]
