"""The batch job: many dialogue lines -> a clip (and frames / video) each, and a summary.

    job = BatchJob(lines="dialogue.csv", out="out/batch", workers=2, formats=("npz", "csv"))
    result = run(job, reporter)     # engine.batch.run: result.summary, result.done, result.failed

Like every job kind (`engine.jobs`), a frozen description of plain JSON values with `validate()`,
`to_json()` and `from_json()`. Its fields other than `lines`, `out`, `workers` and `cluster` are the
defaults of each line, which a manifest's cells override. It lives beside the batch runner rather than
in `engine.jobs.KINDS` because batch is built on the jobs layer (each line is an `AnimateJob`): the
layer cannot import what is built on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Optional

from ..drivers.models import check_models_dir
from ..drivers.registry import runnable_driver
from ..errors import InputError
from ..jobs import rules
from ..jobs.base import Job
from ..style import from_items
from .lines import FORMATS, BatchLine

MAX_WORKERS = 256


@dataclass(frozen=True)
class BatchJob(Job):
    """Animate every line of a folder of voices or a CSV manifest into OUT/<line id>/, resumably."""

    kind: ClassVar[str] = "batch"
    version: ClassVar[int] = 1

    lines: str                            # a folder of audio files, or a CSV manifest (engine.batch.lines)
    out: str                              # the output folder: OUT/<id>/... and OUT/summary.csv
    workers: int = 1                      # local worker processes (on a cluster: actors; 0 = one per CPU)
    cluster: Optional[str] = None         # a Ray address ("auto", "host:port", "ray://...", "local"); None: local
    fps: float = 30.0                     # each line's defaults, overridden by the manifest's cells:
    formats: tuple[str, ...] = ("npz",)   # of npz json csv frames video
    driver: Optional[str] = None          # None: the engine's default for each line
    style_items: tuple[str, ...] = ()     # preset names and NAME=VALUE
    look: Optional[str] = None            # an NLDF look for frames / video
    size: int = 256                       # rendered frame width and height
    seed: int = 0
    device: str = "auto"                  # where the networks run
    models_dir: Optional[str] = None      # a folder searched for models before the shipped ones

    def validate(self) -> None:
        if not Path(self.lines).exists():
            raise InputError(f"The lines '{self.lines}' are neither a folder of audio files nor a CSV manifest "
                             "that exists.")
        if Path(self.out).is_file():
            raise InputError(f"The output '{self.out}' is a file; give a folder for the batch's outputs.")
        if not (0 if self.cluster else 1) <= self.workers <= MAX_WORKERS:
            raise InputError(f"The number of workers must be from 1 to {MAX_WORKERS}, not {self.workers}.")
        if self.cluster is not None and not self.cluster.strip():
            raise InputError("The cluster address is empty; give a Ray address such as 'auto' or 'host:6379'.")
        rules.check_fps(self.fps)
        rules.check_size(self.size)
        rules.check_seed(self.seed)
        rules.check_device(self.device)
        check_models_dir(self.models_dir)
        self._check_formats()
        from_items(self.style_items)
        if self.driver is not None:
            runnable_driver(self.driver, self.models_dir)  # unknown, or its model not installed: the drivers' sentence

    def _check_formats(self) -> None:
        unknown = [f for f in self.formats if f not in FORMATS]
        if unknown or not self.formats:
            raise InputError(f"The output formats must be some of: {', '.join(FORMATS)}, not "
                             f"{', '.join(self.formats) or 'none'}.")
        if {"frames", "video"} & set(self.formats) and self.look is None:
            raise InputError("Frames and video need a look to render in; add --look (e.g. toon).")

    def line_defaults(self) -> BatchLine:
        """What a line takes where its manifest row says nothing."""
        return BatchLine(id="", audio="", fps=self.fps, formats=self.formats, style=self.style_items,
                         look=self.look, driver=self.driver, seed=self.seed, size=self.size)
