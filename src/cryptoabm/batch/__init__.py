"""Batch experiments: experiment files, executors, crash-safe results and the comparison report.

    from cryptoabm.batch import load_experiment, run_batch, write_report
"""

from cryptoabm.batch.experiment import Experiment, LoadedExperiment, RunSpec, expand_runs, load_experiment
from cryptoabm.batch.report import write_report
from cryptoabm.batch.runner import InProcessExecutor, execute_run, process_pool, run_batch

__all__ = ["Experiment", "InProcessExecutor", "LoadedExperiment", "RunSpec", "execute_run", "expand_runs",
           "load_experiment", "process_pool", "run_batch", "write_report"]
