"""Same audio, two speaking styles: the lip sync should stay, the style statistics should move.

For each pair of presets, the adf driver (the phonetic driver when no model is
installed) animates the same held-out festival sentences twice. The report
shows, per style, the lip-sync scores against the target rendered from the
true phones (closure recall, opening correlation) and the correlation of the
two performances' mouth openings with each other, then the statistics a
speaking style should change: head motion, brow activity, smile and blinks.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .report import Row

STYLE_PAIRS = (("subtle", "expressive"), ("serious", "happy"))
HEAD = ("neck_rx", "neck_ry", "neck_rz")
BROWS = ("browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight")
SMILE = ("mouthSmileLeft", "mouthSmileRight")
BLINK_CLOSED = 0.5     # eyeBlink above this counts as a closed eye


def style_statistics(clip) -> dict[str, float]:
    """Head motion (RMS degrees about the mean pose), brow activity (mean std of the brow
    weights), smile (mean weight) and blinks per minute of one MotionClip."""
    def column(name):
        return clip.values[:, clip.names.index(name)] if name in clip.names else np.zeros(clip.num_frames)

    head = np.stack([column(n) for n in HEAD], axis=1)
    blink = column("eyeBlinkLeft") > BLINK_CLOSED
    minutes = clip.num_frames / clip.fps / 60.0
    return {"head_motion_deg": float(np.degrees(np.sqrt(np.mean((head - head.mean(axis=0)) ** 2)))),
            "brow_activity": float(np.mean([np.std(column(n)) for n in BROWS])),
            "smile": float(np.mean([np.mean(column(n)) for n in SMILE])),
            "blinks_per_min": float(np.count_nonzero(blink[1:] & ~blink[:-1]) / max(minutes, 1e-9))}


def compare_styles(clips, styles, driver: str, fps: float = 30.0) -> dict:
    """{style: {metric: value}} for `clips` [(Audio, phones, text)] animated in each style, plus
    "mutual_opening_correlation" (the two styles' mouth openings, pooled)."""
    from ..animate import animate
    from ..head import load_head
    from ..motion import MotionClip
    from ..drivers.phonetic import perform
    from ..drivers.phonetic.metrics import closure_score, mouth_opening
    from ..style import preset

    head = load_head()
    targets = [mouth_opening(head, perform(phones, audio, fps)) for audio, phones, _ in clips]
    result, openings = {}, {}
    for name in styles:
        performed = [animate(audio, fps=fps, driver=driver, style=preset(name), seed=1) for audio, _, _ in clips]
        opening = [mouth_opening(head, clip) for clip in performed]
        hits = total = 0
        for (audio, phones, _), o in zip(clips, opening):
            score = closure_score(o, fps, phones)
            hits, total = hits + score.recall * score.bilabials, total + score.bilabials
        T = [min(o.size, t.size) for o, t in zip(opening, targets)]
        pooled = np.concatenate([o[:n] for o, n in zip(opening, T)])
        target = np.concatenate([t[:n] for t, n in zip(targets, T)])
        joined = MotionClip(performed[0].names, np.concatenate([c.values for c in performed]), performed[0].fps)
        result[name] = {"closure_recall": hits / max(total, 1), "opening_correlation": float(np.corrcoef(pooled, target)[0, 1]),
                        **style_statistics(joined)}
        openings[name] = pooled
    a, b = (openings[s] for s in styles)
    n = min(a.size, b.size)
    result["mutual_opening_correlation"] = float(np.corrcoef(a[:n], b[:n])[0, 1])
    return result


def adf_styles(quick: bool, out: Path) -> list:
    """Bench rows: for each STYLE_PAIRS pair, lip sync (near equal) and style statistics (different)."""
    from ..drivers.adf.runtime import available
    from ..evaluation.lipsync import EVAL_SEED, heldout_clips

    driver = "adf" if available() else "phonetic"
    clips = heldout_clips(3 if quick else 10, EVAL_SEED)
    rows = []
    labels = {"closure_recall": ("bilabial closure recall", ""), "opening_correlation": ("opening correlation with the target", ""),
              "head_motion_deg": ("head motion (RMS)", "deg"), "brow_activity": ("brow activity (std of weights)", ""),
              "smile": ("smile (mean weight)", ""), "blinks_per_min": ("blinks", "per min")}
    for first, second in STYLE_PAIRS:
        scores = compare_styles(clips, (first, second), driver)
        group = f"Styles ({driver} driver)"
        for metric, (label, unit) in labels.items():
            a, b = scores[first][metric], scores[second][metric]
            rows.append(Row(group, f"{label}: {second} vs {first}", b, unit, first, a,
                            b / a if abs(a) > 1e-9 else None,
                            target="near equal" if metric in ("closure_recall", "opening_correlation") else "clearly different"))
        rows.append(Row(group, f"mouth openings of {first} and {second} correlate", scores["mutual_opening_correlation"], "",
                        target="high: the same lip sync", note=f"{len(clips)} held-out festival sentences, same seed"))
    return rows
