"""Jobs: one typed, validated, JSON-round-tripping description per kind of work, and one `run` each.

The CLI, the add-on's worker process and batch only build a job and run it; every rule (frame rates,
seeds, devices, the models folder, output formats, how a style is resolved, what a reference clip needs)
lives here, in the job's `validate()` and its kind's `run`:

    from engine.jobs import AnimateJob, from_json, run
    job = AnimateJob(audio="voice.wav", fps=24, outputs=("clip.npz",))
    same = from_json(json.dumps(job.to_json()))    # == job
    result = run(same, reporter)                   # validates, then runs

| kind      | job           | run                 | result          |
|-----------|---------------|---------------------|-----------------|
| "animate" | `AnimateJob`  | `jobs.animate.run`  | `AnimateResult` |
| "track"   | `TrackJob`    | `jobs.track.run`    | `TrackResult`   |
| "render"  | `RenderJob`   | `jobs.render.run`   | `RenderResult`  |

A new kind is a module with its Job subclass (a `kind`, a `version`, typed fields, `validate()`) and its
`run(job, reporter) -> result`, added to `KINDS`.
"""

from __future__ import annotations

from typing import Callable, NamedTuple, Optional

from ..progress import Reporter
from . import animate, render, track
from .animate import AnimateJob, AnimateResult
from .render import RenderJob, RenderResult
from .track import TrackJob, TrackResult
from .base import InvalidJob, Job, parse


class Kind(NamedTuple):
    """A kind of job: its description's class and the function that runs one."""

    job: type
    run: Callable


KINDS = {"animate": Kind(AnimateJob, animate.run), "track": Kind(TrackJob, track.run),
         "render": Kind(RenderJob, render.run)}

__all__ = ["AnimateJob", "AnimateResult", "InvalidJob", "Job", "KINDS", "Kind", "RenderJob", "RenderResult",
           "TrackJob", "TrackResult", "from_json", "run"]


def from_json(data) -> Job:
    """The job a JSON object (a dict or its text) describes, of whichever kind it names; InvalidJob (one
    sentence) when it names no known kind or is not a valid job of its kind."""
    data = parse(data)
    kind = data.get("kind")
    if not isinstance(kind, str) or kind not in KINDS:
        raise InvalidJob(f"Unknown job kind {str(kind)[:40]!r}; choose one of: {', '.join(sorted(KINDS))}.")
    return KINDS[kind].job.from_json(data)


def run(job: Job, reporter: Optional[Reporter] = None):
    """Validate `job` and run it; its kind's result (see the table above)."""
    return KINDS[job.kind].run(job, reporter)
