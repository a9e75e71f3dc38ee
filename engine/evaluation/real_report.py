"""The real-speech evaluation's files: the JSON of every score and a PNG of lip gaps. No torch."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import numpy as np

from .scores import RealSpeechEvaluation


def plot_real_openings(path: Path, evaluation: RealSpeechEvaluation, videos: Sequence[str] = (),
                       seconds: float = 4.0) -> Path:
    """A PNG: for each of `videos` (default: the first three) the tracked inner-lip gap and each
    driver's over the first `seconds`, the driver's best-lag r in its label."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(videos) or list(evaluation.curves)[:3]
    fig, axes = plt.subplots(len(names), 1, figsize=(12, 2.6 * len(names)), dpi=100, squeeze=False)
    for ax, name in zip(axes[:, 0], names):
        curves = evaluation.curves[name]
        score = {s.driver: s for s in evaluation.scores if s.video == name}
        fps = evaluation.fps[name]
        for j, (label, values) in enumerate(curves.items()):
            n = min(values.size, int(seconds * fps))
            t = np.arange(n) / fps
            if label == "tracked":
                ax.plot(t, values[:n], color="black", lw=1.8, label="tracked video")
            else:
                s = score[label]
                ax.plot(t, values[:n], color=f"C{j - 1}", lw=1.0,
                        label=f"{label}: r = {s.r_lag0:.2f} (lag 0), {s.r_best:.2f} (lag {s.best_lag:+d})")
        speaker = next(iter(score.values())).speaker
        ax.set_title(f"{name} ({speaker})", fontsize=9)
        ax.set_ylabel("inner-lip gap (mm)")
        ax.legend(loc="upper right", fontsize=7)
    axes[-1, 0].set_xlabel("seconds")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def write_real_evaluation(evaluation: RealSpeechEvaluation, out: Path, languages: Sequence = ()) -> Path:
    """out/eval_lipsync_real.json with every score (and the language rows when given)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "eval_lipsync_real.json"
    path.write_text(json.dumps(evaluation.to_dict() | {"languages": list(languages)}, indent=2))
    return path
