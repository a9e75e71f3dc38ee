"""Batch at studio scale: every dialogue line of a folder or a CSV manifest -> clip files (and frames
or a video in a look), resumably, on warm local worker processes or a Ray cluster.

    from engine.batch import BatchJob, run
    result = run(BatchJob(lines="dialogue.csv", out="out/batch", workers=2, formats=("npz", "csv")))

| module     | what it knows                                                                        |
|------------|--------------------------------------------------------------------------------------|
| `lines`    | the manifest's columns, read one line at a time (`BatchLine`)                        |
| `job`      | `BatchJob`, the batch's description (a job kind like `engine.jobs`'), its defaults   |
| `line_job` | one line: an `AnimateJob` run, outputs published atomically, the line's record       |
| `local`    | warm worker processes (`LocalPool`); a dead worker costs only its line               |
| `cluster`  | the same on Ray actors (`RayPool`); Ray is the optional `cluster` extra              |
| `run`      | the batch: finished lines skipped, progress with an ETA, OUT/summary.csv             |
"""

from .job import BatchJob
from .lines import BatchLine, count_lines, read_lines
from .run import BatchResult, run

__all__ = ["BatchJob", "BatchLine", "BatchResult", "count_lines", "read_lines", "run"]
