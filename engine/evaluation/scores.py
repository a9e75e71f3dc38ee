"""The scores of eval-lipsync on real speech: one driver on one video (VideoScore), and the whole
evaluation (RealSpeechEvaluation) with its summaries. Nothing here imports torch."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Sequence

import numpy as np

from .measures import MotionStats


@dataclass
class VideoScore:
    """One driver on one tracked video."""

    video: str
    speaker: str
    driver: str
    r_lag0: float
    r_best: float
    best_lag: int                 # frames; positive: the driver is late
    lip_error_mm: float
    frames: int
    motion: MotionStats
    r_by_lag: dict = field(default_factory=dict)   # {lag: r} for every lag within +-MAX_LAG


@dataclass
class RealSpeechEvaluation:
    """Every driver on every held-out video, the tracked motion statistics, and (where words are
    known) each driver's bilabial closure recall on real recordings."""

    drivers: list
    scores: list = field(default_factory=list)          # [VideoScore]
    tracked: dict = field(default_factory=dict)          # {video: MotionStats of the tracked take}
    closure: list = field(default_factory=list)          # [evaluate_lipsync DriverScore] on known words
    curves: dict = field(default_factory=dict)           # {video: {"tracked" | driver: opening [T] mm}}
    fps: dict = field(default_factory=dict)              # {video: frame rate}
    skipped: list = field(default_factory=list)          # ["<video>: why"]
    cycles: dict = field(default_factory=dict)           # {video: {"seconds", "voice syllables", "tracked", driver: count}}

    def summary(self) -> list:
        """Per driver: mean over speakers of the speaker's mean r (lag 0, best lag), the lowest
        speaker's best-lag r, the mean lip error, and motion statistics averaged over videos."""
        rows = []
        for driver in self.drivers:
            mine = [s for s in self.scores if s.driver == driver]
            if not mine:
                continue
            speakers = sorted({s.speaker for s in mine})
            per = {k: [s for s in mine if s.speaker == k] for k in speakers}
            r0 = [np.mean([s.r_lag0 for s in v]) for v in per.values()]
            rb = [np.mean([s.r_best for s in v]) for v in per.values()]
            lag, r_lag = _common_lag(per)
            rows.append({"driver": driver, "speakers": len(speakers), "videos": len(mine),
                         "r_lag0": float(np.mean(r0)), "r_best": float(np.mean(rb)),
                         "common_lag": lag, "r_common_lag": r_lag,
                         "r_best_lowest_speaker": float(np.min(rb)),
                         "lip_error_mm": float(np.mean([s.lip_error_mm for s in mine])),
                         **_mean_motion([s.motion for s in mine])})
        tracked = list(self.tracked.values())
        if tracked:
            rows.append({"driver": "tracked video", "speakers": len({s.speaker for s in self.scores}),
                         "videos": len(tracked), **_mean_motion(tracked)})
        return rows

    def per_speaker(self) -> dict:
        """{speaker: {driver: mean best-lag r over the speaker's videos}}."""
        out = {}
        for s in self.scores:
            out.setdefault(s.speaker, {}).setdefault(s.driver, []).append(s.r_best)
        return {k: {d: float(np.mean(v)) for d, v in row.items()} for k, row in out.items()}

    def best_driver(self) -> str:
        """The driver with the highest mean best-lag r over speakers."""
        rows = [r for r in self.summary() if "r_best" in r]
        return max(rows, key=lambda r: r["r_best"])["driver"]

    def only(self, videos: Sequence[str]) -> "RealSpeechEvaluation":
        """The same evaluation restricted to the named videos (file names)."""
        keep = set(videos)
        return RealSpeechEvaluation(self.drivers, [s for s in self.scores if s.video in keep],
                                    {k: v for k, v in self.tracked.items() if k in keep}, self.closure,
                                    {k: v for k, v in self.curves.items() if k in keep},
                                    {k: v for k, v in self.fps.items() if k in keep},
                                    [x for x in self.skipped if x.split(":", 1)[0] in keep],
                                    {k: v for k, v in self.cycles.items() if k in keep})

    def cycles_per_second(self) -> dict:
        """{"tracked" | "voice syllables" | driver: opening cycles (syllables) per second over all videos}."""
        seconds = sum(c["seconds"] for c in self.cycles.values())
        keys = [k for k in next(iter(self.cycles.values()), {}) if k != "seconds"]
        return {k: sum(c[k] for c in self.cycles.values()) / max(seconds, 1e-9) for k in keys}

    def to_dict(self) -> dict:
        return {"drivers": self.drivers, "summary": self.summary(), "per_speaker": self.per_speaker(),
                "cycles_per_s": self.cycles_per_second(), "scores": [asdict(s) for s in self.scores],
                "tracked": {k: asdict(v) for k, v in self.tracked.items()},
                "closure_on_known_words": [asdict(s) | {"real_time": s.real_time} for s in self.closure],
                "skipped": self.skipped}


def _common_lag(per_speaker: dict):
    """(lag, r): the one lag for every clip with the highest mean over speakers of r at that lag
    (less flattering than each clip's own best lag; None when the scores carry no lags)."""
    lags = sorted({k for v in per_speaker.values() for s in v for k in s.r_by_lag})
    if not lags:
        return None, float("nan")
    mean = {k: float(np.mean([np.mean([s.r_by_lag[k] for s in v]) for v in per_speaker.values()])) for k in lags}
    best = max(mean, key=mean.get)
    return int(best), mean[best]


def _mean_motion(stats: Sequence[MotionStats]) -> dict:
    return {k: float(np.mean([getattr(s, k) for s in stats])) for k in asdict(stats[0])}
