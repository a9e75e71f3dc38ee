"""Style targets of tracked talking videos: the style whose performance best matches what the video did.

A tracked clip records how a person moved, not the SpeakingStyle that would perform it, so the style
encoder has no code to learn from it directly. This module finds one by calibration: the clip's own
voice is animated by the shipped ADF driver along a sweep of styles, and for each statistic the
encoder should carry (`LEARNED`: head-motion RMS, brow activity, blinks per minute, as
`engine.bench.style_suite.style_statistics` measures them) the style parameter that drives it is read
off the sweep where the performance's statistic equals the video's (linear interpolation on the
sweep, made monotone; the parameter's end of range when the video lies beyond what the style space
can perform). The parameters a tracker does not measure reliably (articulation, smoothness, the
constant smile and brow biases) get the neutral value: a real clip moves only what it shows.

The sweep moves the three parameters together (head motion drives the neck, brow accent the brows,
blink rate the blinks; each barely touches the others' statistics), so one sweep of
`points` styles x `seeds` performances calibrates all three.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ...style import NEUTRAL, RANGES, SpeakingStyle

LEARNED = {"head_motion": "head_motion_deg", "brow_accent": "brow_activity", "blink_rate": "blinks_per_min"}
SWEEP_POINTS = 9
SEEDS = (1, 2, 3)


@dataclass
class StyleTarget:
    """A tracked clip's calibrated style; the video's statistics, the performed statistics along the
    sweep ({statistic: [points]}, seed-averaged) and those of the calibrated style itself."""

    style: SpeakingStyle
    video: dict
    sweep: dict
    reached: dict


def sweep_styles(points: int = SWEEP_POINTS) -> list:
    """[points] SpeakingStyles: neutral with every LEARNED parameter at the same position of its range,
    from its low end to its high end."""
    out = []
    for t in np.linspace(0.0, 1.0, points):
        values = {name: RANGES[name][0] + t * (RANGES[name][1] - RANGES[name][0]) for name in LEARNED}
        out.append(replace(NEUTRAL, **values))
    return out


def invert(levels: np.ndarray, performed: np.ndarray, wanted: float) -> float:
    """The parameter level [points] at which the performed statistic [points] (rising with the
    level, made so by a running maximum) reaches `wanted`; the end level beyond the sweep's range."""
    rising = np.maximum.accumulate(np.asarray(performed, np.float64))
    if wanted <= rising[0]:
        return float(levels[0])
    if wanted >= rising[-1]:
        return float(levels[-1])
    strict = np.concatenate([[True], np.diff(rising) > 1e-12])   # np.interp needs rising x
    return float(np.interp(wanted, rising[strict], np.asarray(levels)[strict]))


def performance_statistics(audio, fps: float, style: SpeakingStyle, seeds=SEEDS) -> dict:
    """{statistic: value} of the ADF driver's performance of `audio` in `style`, averaged over `seeds`."""
    from ...bench.style_suite import style_statistics
    from ...drivers.adf.driver import adf_channels
    from ...motion import MotionClip

    sums: dict = {}
    for seed in seeds:
        channels = adf_channels(audio, fps, seed, style)
        names = sorted(channels)
        clip = MotionClip(names, np.stack([channels[n] for n in names], axis=1), fps)
        for k, v in style_statistics(clip).items():
            sums[k] = sums.get(k, 0.0) + v / len(seeds)
    return sums


def style_target(audio, clip, points: int = SWEEP_POINTS, seeds=SEEDS) -> StyleTarget:
    """The calibrated StyleTarget of one tracked clip (MotionClip) whose voice is `audio`."""
    from ...bench.style_suite import style_statistics

    fps = float(clip.fps)
    video = style_statistics(clip)
    styles = sweep_styles(points)
    rows = [performance_statistics(audio, fps, s, seeds) for s in styles]
    sweep = {stat: np.array([r[stat] for r in rows]) for stat in LEARNED.values()}
    values = {name: invert(np.array([getattr(s, name) for s in styles]), sweep[stat], video[stat])
              for name, stat in LEARNED.items()}
    style = replace(NEUTRAL, **values)
    return StyleTarget(style, video, sweep, performance_statistics(audio, fps, style, seeds))
