"""One batch line, start to finish: voice -> clip files (and frames / video in a look), atomically.

Everything a line writes goes first into a private folder under OUT/.work; only when every output
is complete are they renamed into OUT/<id>/, and the line's record (OUT/<id>/line.json) is written
last. So a line whose record exists is finished, and a run killed at any moment leaves finished
lines, and nothing half-written beside them (the next run clears OUT/.work).

Each line is an `AnimateJob` (and a `RenderJob` when it names a look) run through `engine.jobs`, so
every rule of those jobs applies to a batch line as it does to the CLI and the add-on. `LineRunner` is
what a worker keeps warm: the engine imported, the drivers' models loaded once (the drivers cache
their sessions) and the writers ready, by a warm-up line before the first real one.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import tempfile
import time
import warnings
from pathlib import Path
from typing import Optional

import numpy as np

from ..errors import AudioError, EngineError, InputError
from ..files import write_atomically
from ..jobs import AnimateJob, RenderJob, run as run_job
from ..progress import Reporter, silent
from .lines import BatchLine

RECORD = "line.json"
WORK = ".work"                # OUT/.work: lines being written (cleared at the start of a run)
SILENT_PEAK = 1e-3            # a voice whose loudest sample is under -60 dBFS has nothing to lip-sync
MAX_WARNINGS = 8
CLIP_FORMATS = {"npz": ".npz", "json": ".json", "csv": ".csv"}


def line_key(line: BatchLine) -> str:
    """A digest of everything that decides a line's outputs (not its row): a finished line whose
    manifest row changed is done again."""
    settings = {k: v for k, v in line.to_json().items() if k != "row"}
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]


def read_record(out: Path, line: BatchLine) -> Optional[dict]:
    """The record of `line` when it was finished by an earlier run with the same settings, else None."""
    try:
        record = json.loads((out / line.id / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get("key") == line_key(line) else None


class LineRunner:
    """Runs lines in one worker process, keeping what it loads (engine modules, models, looks) warm."""

    def __init__(self, out, device: str = "auto", models_dir=None) -> None:
        self.out = Path(out)
        self.device, self.models_dir = device, models_dir
        self.worker = f"{socket.gethostname()}:{os.getpid()}"

    def warm_up(self, drivers=("phonetic",)) -> None:
        """Do a 3-second line of a quiet tone once per driver, in a folder thrown away after: the engine's
        modules, the audio decoders, each driver's models and the clip writers (the ARKit one builds the head)
        are loaded before the first real line."""
        import soundfile

        from ..drivers.registry import available_drivers

        with tempfile.TemporaryDirectory(prefix="warm-up-") as folder:
            tone = 0.1 * np.sin(np.arange(3 * 16000) * 2 * np.pi * 150 / 16000)
            soundfile.write(Path(folder) / "tone.wav", tone, 16000)
            for driver in drivers:
                if driver in available_drivers(self.models_dir):
                    line = BatchLine(id="tone", audio=str(Path(folder) / "tone.wav"), driver=driver)
                    outputs = [Path(folder) / f"tone{suffix}" for suffix in CLIP_FORMATS.values()]
                    try:
                        run_job(line_job(line, self.device, self.models_dir, outputs))
                    except EngineError:  # (a broken model, say): each line then fails with its sentence
                        pass

    def run(self, line: BatchLine, reporter: Optional[Reporter] = None) -> dict:
        """Do `line`; its record (status "ok" or "failed" with the error's sentence, timings, warnings,
        outputs). Never raises for the line's own failures (an EngineError, a damaged file, a full disk)."""
        start, cpu = time.perf_counter(), time.process_time()
        record = {"id": line.id, "row": line.row, "audio": line.audio, "key": line_key(line),
                  "worker": self.worker, "warnings": []}
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                record.update(self._produce(line, reporter or silent(), record))
            record["warnings"] += [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
            record["status"] = "ok"
        except EngineError as error:
            record.update(status="failed", error=str(error), error_kind=type(error).__name__)
        except OSError as error:
            record.update(status="failed", error=f"Cannot write the outputs ({error.strerror or error}); check "
                                                 "that the output folder is writable and has space.",
                          error_kind="OSError")
        except MemoryError:
            record.update(status="failed", error="The line needs more memory than is free.", error_kind="MemoryError")
        except Exception as error:  # noqa: BLE001 - a bug of ours fails its line, never the batch
            record.update(status="failed", error=f"Internal error ({type(error).__name__}: {str(error)[:200]}); "
                                                 "report it with this line's audio.", error_kind="InternalError")
        record["warnings"] = record["warnings"][:MAX_WARNINGS]
        record["seconds"] = round(time.perf_counter() - start, 3)
        record["cpu_s"] = round(time.process_time() - cpu, 3)  # this worker's CPU for the line, all its threads
        if record["status"] == "ok":
            write_atomically(self.out / line.id / RECORD, json.dumps(record, indent=1).encode("utf-8"))
        return record

    def _produce(self, line: BatchLine, reporter: Reporter, record: dict) -> dict:
        """Animate, write, render and publish the line's outputs; the record's timings and outputs."""
        _check_line(line)
        work = Path(tempfile.mkdtemp(prefix=f"{line.id[:40]}-", dir=_made(self.out / WORK)))
        try:
            started = time.perf_counter()
            check_voice(line, reporter)
            renders = bool({"frames", "video"} & set(line.formats))
            files = [work / f"{line.id}{CLIP_FORMATS[f]}" for f in line.formats if f in CLIP_FORMATS]
            job = line_job(line, self.device, self.models_dir, files + ([work / "render.npz"] if renders else []))
            record["warnings"] += line_warnings(line, job)
            clip = run_job(job, reporter).clip
            animated = time.perf_counter()
            if renders:
                files += self._render(line, work / "render.npz", work, reporter)
            names = _publish(work, files, self.out / line.id)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return {"animate_s": round(animated - started, 3), "render_s": round(time.perf_counter() - animated, 3),
                "audio_s": clip.metadata.get("duration_s"), "frames": clip.num_frames, "fps": clip.fps,
                "driver": clip.metadata.get("driver"), "outputs": names}

    def _render(self, line: BatchLine, clip_file: Path, work: Path, reporter: Reporter) -> list:
        """The line's render job (its clip in its look): work/frames/frame_NNNN.png and/or its video with the
        voice; the outputs to publish."""
        video = work / f"{line.id}.mp4" if "video" in line.formats else None
        job = RenderJob(clip=str(clip_file), output=str(work / "frames"), look=line.look, size=line.size,
                        device=self.device, models_dir=self.models_dir, audio=line.audio if video else None,
                        video=str(video) if video else None)
        run_job(job, reporter)
        if "frames" not in line.formats:
            shutil.rmtree(work / "frames")
        return ([work / "frames"] if "frames" in line.formats else []) + ([video] if video else [])


def line_job(line: BatchLine, device: str, models_dir, outputs=()) -> AnimateJob:
    """The animate job of `line`, writing the clip to each of `outputs`."""
    return AnimateJob(audio=line.audio, fps=line.fps, driver=line.driver, seed=line.seed, transcript=line.transcript,
                      style_items=line.style, device=device, models_dir=models_dir,
                      outputs=tuple(str(p) for p in outputs))


def check_voice(line: BatchLine, reporter: Reporter) -> None:
    """AudioError when the line's voice is silent: a neutral face is no lip sync, and a silent file in a
    dialogue batch is almost always the wrong file."""
    from ..audio.load import load_audio

    audio = load_audio(line.audio, min_duration=1.0 / line.fps, reporter=reporter)
    if audio.samples.size == 0 or float(np.max(np.abs(audio.samples))) < SILENT_PEAK:
        raise AudioError(f"The voice '{Path(line.audio).name}' is silent (no sample above -60 dBFS); check that "
                         "it is the right recording.")


def line_warnings(line: BatchLine, job: AnimateJob) -> list:
    """What the summary should say about a line that still ran (a setting it could not use)."""
    driver = job.chosen_driver()
    if line.transcript and driver != "phonetic":
        return [f"The transcript is read by the phonetic driver only; the {driver} driver ignored it."]
    return []


def _check_line(line: BatchLine) -> None:
    if line.problem:
        raise InputError(line.problem)
    if not Path(line.audio).is_file():
        raise AudioError(f"The voice file '{line.audio}' does not exist.")
    if {"frames", "video"} & set(line.formats) and not line.look:
        raise InputError("Frames and video need a look to render in; name one in the 'look' column or with --look.")


def _publish(work: Path, outputs: list, folder: Path) -> list:
    """Move each finished output from the work folder into the line's folder (a rename each, replacing
    what an earlier run left there); their names."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in outputs:
        target = folder / path.name
        if target.is_dir():
            shutil.rmtree(target)
        os.replace(path, target)
    return [path.name for path in outputs]


def _made(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder
