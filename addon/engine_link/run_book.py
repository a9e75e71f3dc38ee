"""The engine runs of one kind (animate, render, track), one per scene, and each scene's last failure.

There is one `RunBook` per kind (ANIMATE, RENDER, TRACK), kept here at the bottom of the add-on: each
operator module's runs register in their book when their child starts and leave when they close, and
whoever asks whether a job of another kind is running (a poll message, Follow Frame) reads that book
instead of importing the other kind's operators. No bpy: scenes are looked up by name only.
"""

from __future__ import annotations

from typing import Callable, Optional


class RunBook:
    """Scene name -> the run working for that scene, and scene name -> the sentence of its last failure."""

    def __init__(self) -> None:
        self.runs: dict = {}
        self.failures: dict = {}

    def add(self, run) -> None:
        """`run` (with a `scene_name`) is now the scene's run; its earlier failure is forgotten."""
        self.runs[run.scene_name] = run
        self.failures.pop(run.scene_name, None)

    def running(self, scene):
        """The run working for `scene` (a Blender scene or None), or None."""
        return self.runs.get(scene.name) if scene is not None else None

    def last_failure(self, scene) -> str:
        """The sentence of the scene's last failed run in this session ("" when the last one did not fail)."""
        return self.failures.get(scene.name, "") if scene is not None else ""

    def remember_failure(self, scene_name: str, text: str) -> None:
        self.failures[scene_name] = text

    def forget_failure(self, scene_name: str) -> None:
        self.failures.pop(scene_name, None)

    def cancel_all(self, also: Optional[Callable] = None) -> None:
        """Stop every run's child (the add-on is being disabled, another file loads); `also(run)` after each."""
        for run in list(self.runs.values()):
            run.job.cancel()
            if also is not None:
                also(run)
        self.runs.clear()


ANIMATE = RunBook()     # the AnimateRun working for each scene, and each scene's last failed run
RENDER = RunBook()      # the RenderRun working for each scene, and each scene's last failed render or preview
TRACK = RunBook()       # the TrackRun working for each scene, and each scene's last failed tracking
