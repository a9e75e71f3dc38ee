"""Speech benchmarks: the energy and phonetic drivers' speed, and lip-sync quality on held-out speech."""

from __future__ import annotations

from pathlib import Path

from .measure import best_time, long_speech
from .report import Row


def energy_driver(quick: bool, out: Path) -> list:
    """The audio-energy driver's speed as a multiple of real time, file to MotionClip."""
    from ..animate import animate

    long_audio = long_speech(0.5 if quick else 2.0)
    seconds = best_time(lambda: animate(long_audio, fps=30.0, driver="energy"), 2)
    return [Row("Speech to motion", f"energy driver, {long_audio.duration / 60:.1f} min of speech at 30 fps",
                long_audio.duration / seconds, "x real time", "real time", 1.0, long_audio.duration / seconds,
                note="features included; audio already decoded")]


def phonetic_driver(quick: bool, out: Path) -> list:
    """File-to-clip speed of the phonetic driver (recognition with 2 workers + performance)."""
    from ..animate import animate

    speech = long_speech(0.5 if quick else 2.0)
    seconds = best_time(lambda: animate(speech, fps=30.0, driver="phonetic"), 1 if quick else 2)
    speed = speech.duration / seconds
    return [Row("Speech to motion", f"phonetic driver, {speech.duration / 60:.1f} min of speech at 30 fps",
                speed, "x real time", "real time", 1.0, speed, target=">= 50x real time on 2 cores",
                note="pocketsphinx all-phone recognition in 2 processes + features + coarticulation")]


def lipsync_quality(quick: bool, out: Path) -> list:
    """eval-lipsync on held-out festival speech: every driver side by side with the target's own."""
    from ..evaluation.lipsync import EVAL_SEED, evaluate_lipsync, heldout_clips, write_evaluation

    clips = heldout_clips(4 if quick else 20, EVAL_SEED)
    evaluation = evaluate_lipsync(clips, drivers=("phonetic", "phonetic+transcript", "energy"),
                                  plot=out / "eval_lipsync.png")
    write_evaluation(evaluation, out)
    scores = {s.driver: s for s in evaluation.scores}
    base = scores["energy"]
    speech = f"{evaluation.clips} held-out festival sentences, {base.seconds_of_speech:.0f} s"
    rows = []
    labels = {"phonetic": "phonetic driver", "phonetic+transcript": "phonetic driver given the transcript",
              "target (true phones)": "target rendered from the true phones"}
    for name, label in labels.items():
        s = scores[name]
        rows += [
            Row("Lip sync", f"{label}: bilabial closure recall ({speech})", s.closure_recall, "",
                "energy driver", base.closure_recall, _ratio(s.closure_recall, base.closure_recall),
                target="1.0 (lips close on every p/b/m)"),
            Row("Lip sync", f"{label}: closure precision", s.closure_precision or 0.0, "",
                "energy driver", base.closure_precision, _ratio(s.closure_precision, base.closure_precision),
                note="" if base.closure_precision is not None else "the energy driver never closes the lips in speech"),
            Row("Lip sync", f"{label}: mouth-opening correlation with the target", s.opening_correlation, "",
                "energy driver", base.opening_correlation, _ratio(s.opening_correlation, base.opening_correlation)),
        ]
    s = scores["phonetic"]
    rows.append(Row("Lip sync", "phonetic driver: lip-vertex error vs the target", s.lip_vertex_error_mm, "mm",
                    "energy driver", base.lip_vertex_error_mm, _ratio(base.lip_vertex_error_mm, s.lip_vertex_error_mm),
                    note="ratio = energy error / phonetic error (higher is better); plot: eval_lipsync.png"))
    return rows


def _ratio(a, b):
    return a / b if a is not None and b is not None and abs(b) > 1e-9 else None


SHARED_SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "samples"


def adf_driver(quick: bool, out: Path) -> list:
    """The ADF network (when installed): speed, memory at 1 and 10 minutes, and quality side by side
    with the phonetic driver and the energy baseline on held-out festival speech and real speech."""
    from ..drivers.adf.runtime import available

    if not available():
        return [Row("ADF network", "ADF driver", 0.0, "", note="no model installed (engine/models/adf.onnx)")]
    from ..animate import animate
    from ..evaluation.lipsync import EVAL_SEED, evaluate_lipsync, heldout_clips, real_sample_clips

    speech = long_speech(0.5 if quick else 2.0)
    seconds = best_time(lambda: animate(speech, fps=30.0, driver="adf"), 2)
    rows = [Row("ADF network", f"adf driver, {speech.duration / 60:.1f} min of speech at 30 fps, file features "
                f"included", speech.duration / seconds, "x real time", "real time", 1.0, speech.duration / seconds,
                target=">= 500x real time on 2 cores")]
    rows += adf_memory(quick)
    sets = {"held-out festival": heldout_clips(4 if quick else 20, EVAL_SEED),
            "real speech": real_sample_clips(SHARED_SAMPLES)}
    for name, clips in sets.items():
        if not clips:
            continue
        evaluation = evaluate_lipsync(clips, drivers=("adf", "phonetic", "energy"), speech=name,
                                      plot=out / f"eval_adf_{name.split()[0].replace('-', '')}.png")
        scores = {s.driver: s for s in evaluation.scores}
        for metric, label in (("closure_recall", "bilabial closure recall"),
                              ("opening_correlation", "mouth-opening correlation"),
                              ("lip_vertex_error_mm", "lip-vertex error (mm)")):
            a, p = getattr(scores["adf"], metric), getattr(scores["phonetic"], metric)
            rows.append(Row("ADF network", f"{name}: {label}", a, "", "phonetic driver", p, _ratio(a, p),
                            note=f"energy baseline {getattr(scores['energy'], metric):.3g}"))
    return rows


def adf_memory(quick: bool) -> list:
    """Peak memory of animating 1 and 10 minutes of speech with the adf driver, each in a fresh process."""
    import subprocess
    import sys

    script = ("import sys; from engine.bench.measure import long_speech; from engine.animate import animate; "
              "from engine.bench.memory import peak_rss_kib; "
              "a = long_speech(float(sys.argv[1])); animate(a, fps=30.0, driver='adf'); print(peak_rss_kib())")
    rows = []
    for minutes in ((1.0,) if quick else (1.0, 10.0)):
        done = subprocess.run([sys.executable, "-c", script, str(minutes)], capture_output=True, text=True,
                              check=True, cwd=Path(__file__).resolve().parents[2])
        rows.append(Row("ADF network", f"adf driver, {minutes:.0f} min of speech: peak memory",
                        float(done.stdout.split()[-1]) / 1024.0, "MB", target="flat, < 1 GB",
                        note="fresh process, peak RSS of its own program (VmHWM), the audio made in that process"))
    return rows
