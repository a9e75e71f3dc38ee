"""Batch lines on a Ray cluster: the same line jobs as local workers, on Ray actors that stay warm.

Ray is an optional extra (`pip install talking-head[cluster]`), imported only here and only when
a batch names a cluster. Each actor is a `LineRunner` (one CPU each): it loads the engine and its
models once and does line after line. Every node must see the voice files and the output folder at
the same paths (shared storage, as a render farm has) and have the engine installed; on a local
cluster the actors find this checkout's engine through PYTHONPATH. An actor that dies costs only its
line (recorded as failed, a new actor takes its place), as a local worker's death does.

`address` is what `ray.init` takes: "auto" (the cluster this machine is part of), "host:port" of a
running head, "ray://host:10001" (Ray Client), or "local" for a cluster of this machine started for
the batch and stopped after it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator

from ..errors import InputError
from .lines import BatchLine
from .line_job import LineRunner
from .local import worker_died_record

ENGINE_ROOT = str(Path(__file__).resolve().parents[2])  # the folder holding the engine package


class LineActor:
    """A Ray actor's state: one warm LineRunner."""

    def __init__(self, out: str, device: str, models_dir, drivers: tuple) -> None:
        self.runner = LineRunner(out, device, models_dir)
        self.runner.warm_up(drivers)

    def run(self, line: dict) -> dict:
        return self.runner.run(BatchLine.from_json(line))


def import_ray():
    """The ray module; InputError saying how to install it when it is missing."""
    try:
        import ray
    except ImportError:
        raise InputError("Running a batch on a cluster needs Ray; install it with "
                         "'pip install talking-head[cluster]' (or 'pip install ray'), or leave out --cluster.") from None
    return ray


class RayPool:
    """`workers` warm Ray actors (default: one per CPU of the cluster) doing batch lines."""

    def __init__(self, address: str, workers, out, device: str = "auto", models_dir=None,
                 drivers=("phonetic",)) -> None:
        self.ray = ray = import_ray()
        self._owns = not ray.is_initialized()
        if self._owns:
            self._connect(address, workers)
        count = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        self._actor = ray.remote(num_cpus=1, max_restarts=0)(LineActor).options(
            runtime_env={"env_vars": {"PYTHONPATH": ENGINE_ROOT, "OMP_NUM_THREADS": "1"}})
        self._settings = (str(out), device, models_dir, tuple(drivers))
        self.actors = [self._actor.remote(*self._settings) for _ in range(count)]
        self.started = len(self.actors)

    def _connect(self, address: str, workers) -> None:
        options = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
        try:
            if address == "local":
                self.ray.init(num_cpus=workers or None, **options)
            else:
                self.ray.init(address=address, **options)
        except (ConnectionError, RuntimeError, ValueError) as error:
            raise InputError(f"Cannot reach the Ray cluster at '{address}' ({str(error).splitlines()[0][:160]}); "
                             "check the address, or start one with 'ray start --head'.") from None

    def run(self, lines: Iterator[BatchLine], more: Callable[[], bool] = lambda: True) -> Iterator[dict]:
        """The record of each line, as each finishes; a line is taken when an actor is free and `more()`."""
        pending, exhausted = iter(lines), False
        doing: dict = {}   # object ref -> (actor index, line)
        while True:
            busy = {k for k, _ in doing.values()}
            for k in range(len(self.actors)):
                if k not in busy and not exhausted and more():
                    line = next(pending, None)
                    exhausted = line is None
                    if line is not None:
                        doing[self.actors[k].run.remote(line.to_json())] = (k, line)
            if not doing:
                return
            (ref,), _ = self.ray.wait(list(doing), num_returns=1)
            yield self._collect(ref, *doing.pop(ref))

    def _collect(self, ref, k: int, line: BatchLine) -> dict:
        try:
            return self.ray.get(ref)
        except self.ray.exceptions.RayTaskError as error:  # not the line's own failure: those are records
            return worker_died_record(line, None) | {
                "error": f"Internal error on the Ray worker ({str(error).splitlines()[0][:200]}).",
                "error_kind": "InternalError"}
        except self.ray.exceptions.RayActorError:
            self.actors[k] = self._actor.remote(*self._settings)
            self.started += 1
            return worker_died_record(line, None) | {
                "error": "The Ray worker stopped unexpectedly while doing this line; rerun the batch to do it again."}

    def close(self) -> None:
        """Release the actors, and stop the cluster when this batch started it."""
        for actor in self.actors:
            self.ray.kill(actor)
        self.actors = []
        if self._owns:
            self.ray.shutdown()
