"""eval-lipsync: drivers against known phone timings on held-out synthetic speech.

Held-out speech comes from festival (a different synthesizer from the
corpus's espeak-ng, with sentences from a different seed), whose segment
timings are the truth. The target performance is `perform` on those true
phones; each driver animates the audio alone. On the built-in head we
measure what a viewer sees:

- lip closure on bilabials: recall (true p/b/m with closed lips) and
  precision (closures during speech that belong to a p/b/m);
- the correlation of the mouth opening (inner-lip gap) with the target's;
- the lip-vertex error (mean over frames of the largest lip-landmark
  distance, mm).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from ..animate import animate
from ..head import load_head
from ..drivers.phonetic import perform
from ..drivers.phonetic.metrics import closure_score, lip_vertex_error, mouth_opening
from ..progress import Reporter, silent

EVAL_SEED = 20261120      # held-out sentences: a seed the corpus never uses by default
PLOT_SECONDS = 8.0        # the plot shows the first clips up to this much speech


@dataclass
class DriverScore:
    """One driver's scores pooled over the held-out clips."""

    driver: str
    closure_recall: float
    closure_precision: Optional[float]   # None when the driver never closed the lips during speech
    opening_correlation: float
    lip_vertex_error_mm: float
    bilabials: int
    closures: int
    seconds_of_speech: float
    wall_seconds: float

    @property
    def real_time(self) -> float:
        return self.seconds_of_speech / max(self.wall_seconds, 1e-9)


@dataclass
class LipsyncEvaluation:
    """Every driver's score on the same clips, plus the target's own (a sanity check)."""

    clips: int
    fps: float
    synthesizer: str
    scores: list = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"clips": self.clips, "fps": self.fps, "synthesizer": self.synthesizer,
                "scores": [asdict(s) | {"real_time": s.real_time} for s in self.scores]}


def heldout_clips(n: int, seed: int = EVAL_SEED):
    """n held-out festival clips: [(Audio, true phones, text)]."""
    from .festival import heldout_festival_clips  # lazy: reading a score needs no synthesizer

    return heldout_festival_clips(n, seed)


REAL_SAMPLES = {  # real recordings beside the checkout (never shipped) with what they say
    "test_sentence.wav": "severe myopia contributed to ron's inferiority complex",
}


def real_sample_clips(folder: Path):
    """[(Audio, phones, text)] of the real recordings in `folder` that are there; their "true"
    phones are the forced alignment of the known words (the best timing we have for them)."""
    from ..audio import load_audio
    from ..drivers.phonetic.recognize import recognize_phones

    clips = []
    for name, text in REAL_SAMPLES.items():
        if (Path(folder) / name).exists():
            audio = load_audio(Path(folder) / name)
            clips.append((audio, recognize_phones(audio.samples, audio.rate, transcript=text), text))
    return clips


def evaluate_lipsync(clips: Sequence, drivers: Sequence[str] = ("phonetic", "phonetic+transcript", "energy"), fps: float = 30.0,
                     reporter: Optional[Reporter] = None, plot: Optional[Path] = None,
                     speech: str = "held-out festival speech", lead_ms: Optional[float] = None,
                     target_lead_ms: float = 0.0) -> LipsyncEvaluation:
    """Score each driver on `clips` [(Audio, phones, text)] against perform(true phones).
    A driver named "<driver>+transcript" is given each clip's text as its transcript. `lead_ms` is every
    driver's mouth lead (None: each driver's default); `target_lead_ms` anticipates the truth's mouth
    by that much (0: the phones' acoustic times)."""
    reporter = reporter or silent()
    head = load_head()
    targets = [perform(phones, audio, fps, lead_s=target_lead_ms / 1000.0) for audio, phones, _ in clips]
    target_open = [mouth_opening(head, t) for t in targets]
    result = LipsyncEvaluation(clips=len(clips), fps=fps, synthesizer="festival")
    result.scores.append(_score("target (true phones)", clips, targets, targets, target_open, target_open, head, 0.0, fps))
    curves = {}
    for driver in drivers:
        reporter.stage(f"evaluating the {driver} driver", len(clips))
        start = time.perf_counter()
        predicted = []
        name, _, with_text = driver.partition("+")
        for k, (audio, _, text) in enumerate(clips):
            predicted.append(animate(audio, fps=fps, driver=name, transcript=text if with_text else None,
                                     lead_ms=lead_ms))
            reporter.update(k + 1)
        wall = time.perf_counter() - start
        opening = [mouth_opening(head, p) for p in predicted]
        result.scores.append(_score(driver, clips, predicted, targets, opening, target_open, head, wall, fps))
        curves[driver] = opening
    if plot is not None:
        plot_openings(plot, clips, target_open, curves, fps, speech)
    return result


def _score(name, clips, predicted, targets, openings, target_open, head, wall, fps) -> DriverScore:
    """Pool closure counts, opening correlation and lip-vertex error over the clips."""
    hits = recall_n = good = precision_n = 0.0
    pred_all, target_all, lve = [], [], []
    for (audio, phones, _), clip, target, opening, target_opening in zip(clips, predicted, targets, openings,
                                                                         target_open):
        score = closure_score(opening, fps, phones)
        hits += score.recall * score.bilabials
        recall_n += score.bilabials
        good += score.precision * score.closures
        precision_n += score.closures
        T = min(opening.size, target_opening.size)
        pred_all.append(opening[:T])
        target_all.append(target_opening[:T])
        lve.append(lip_vertex_error(head, clip, target) if clip is not target else 0.0)
    p, t = np.concatenate(pred_all), np.concatenate(target_all)
    correlation = float(np.corrcoef(p, t)[0, 1]) if np.std(p) > 1e-9 and np.std(t) > 1e-9 else 0.0
    return DriverScore(driver=name, closure_recall=hits / max(recall_n, 1),
                       closure_precision=good / precision_n if precision_n else None,
                       opening_correlation=correlation, lip_vertex_error_mm=float(np.mean(lve)),
                       bilabials=int(recall_n), closures=int(precision_n),
                       seconds_of_speech=float(sum(a.duration for a, _, _ in clips)), wall_seconds=wall)


def plot_openings(path: Path, clips, target_open, curves: dict, fps: float,
                  speech: str = "held-out festival speech") -> Path:
    """A PNG of predicted vs target mouth opening over the first clips, p/b/m shaded."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(12, 3.6), dpi=100)
    offset = 0.0
    for k, (audio, phones, _) in enumerate(clips):
        if offset >= PLOT_SECONDS:
            break
        t = offset + np.arange(target_open[k].size) / fps
        for p in phones:
            if p.label in ("P", "B", "M"):
                ax.axvspan(offset + p.start, offset + p.end, color="tab:purple", alpha=0.18, lw=0)
        ax.plot(t, target_open[k], color="black", lw=1.6, label="target (true phones)" if k == 0 else None)
        for j, (driver, openings) in enumerate(curves.items()):
            ax.plot(t[:openings[k].size], openings[k][:t.size], color=f"C{j}", lw=1.0,
                    label=f"{driver} driver" if k == 0 else None)
        offset += audio.duration
    ax.set_xlabel(f"seconds of {speech} (shaded: true p, b, m)")
    ax.set_ylabel("inner-lip gap (mm)")
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def write_evaluation(evaluation: LipsyncEvaluation, out: Path) -> Path:
    """out/eval_lipsync.json with every score."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / "eval_lipsync.json"
    path.write_text(json.dumps(evaluation.to_dict(), indent=2))
    return path
