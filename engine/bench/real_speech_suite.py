"""Lip sync on real speech: every driver against held-out real speakers' tracked videos.

Needs ../shared/data (videos/ and speech/, beside the checkout; never shipped): where it is absent the
suite says so and skips. Tracked takes are cached under out/real_speech/takes of the checkout (a re-run tracks nothing).
Figures: per driver the inner-lip gap correlation with the tracked mouth (lag 0, best lag within
+-5 frames; mean over speakers; lag 0 also with the mouth on the sound, lead 0, beside the default lead), the lowest speaker's, the lip-vertex error against the tracked fit,
head-motion and blink statistics beside the tracked ones; bilabial closure recall on real recordings
whose words are known; per-language opening statistics of the dreamtalk recordings.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from .report import Row

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("TALKING_HEAD_DATA", ROOT.parent / "shared" / "data"))
SECTION = "Lip sync on real speech"
DRIVERS = ("adf", "phonetic", "energy")
PLOTTED = ("mead_M003_level_1_disgusted_015.mp4", "lrs3_PbgB2TaYhio_00007.mp4", "wav2lipgfpgan_kim_7s_raw.mp4")
SETS = {"held-out": "held-out speakers (evaluation-only rows)",
        "all": "every real speaker (the held-out ones and the training rows, which the shipped ADF learned from)"}


def real_speech(quick: bool, out: Path) -> list:
    """The real-speech evaluation (quick: four held-out videos, no languages)."""
    from ..animate import available_drivers
    from ..drivers.registry import driver_named
    from ..evaluation.real import (TAKE_CACHE, evaluate_real_speech, held_out_videos, language_statistics,
                                          plot_real_openings, real_closure_clips, real_videos,
                                          write_real_evaluation)

    held_out = held_out_videos(DATA / "videos", quick)
    if not held_out:
        return [Row(SECTION, "real speech", float("nan"), "", note=f"skipped: {DATA / 'videos'} has no held-out clips")]
    drivers = [d for d in DRIVERS if d in available_drivers()]
    known = real_closure_clips(DATA / "speech")
    if quick:
        known = known[:3]
    everyone = evaluate_real_speech(real_videos(DATA / "videos", "all", quick), TAKE_CACHE,
                                    drivers + ["phonetic+transcript"], known)
    evaluation = everyone.only([p.name for p, _ in held_out])
    languages = [] if quick else language_statistics(DATA / "speech", drivers)
    shown = [n for n in PLOTTED if n in evaluation.curves] or list(evaluation.curves)[:3]
    plot = plot_real_openings(Path(out) / "eval_lipsync_real.png", evaluation, shown)
    write_real_evaluation(evaluation, Path(out), languages)
    on_sound = evaluate_real_speech(held_out, TAKE_CACHE, [d for d in drivers if driver_named(d).reads_lead],
                                    lead_ms=0.0)
    rows = video_rows(evaluation, plot, "held-out") + lead_rows(evaluation, on_sound) + speaker_rows(evaluation) + \
        ([] if quick else [default_row(evaluation)])  # 4 speakers decide nothing
    if len(everyone.scores) > len(evaluation.scores):
        rows += video_rows(everyone, plot, "all")
        (Path(out) / "eval_lipsync_real_all.json").write_text(json.dumps(everyone.to_dict(), indent=2))
    return rows + closure_rows(evaluation) + language_rows(languages)


def video_rows(evaluation, plot: Path, which: str) -> list:
    """One row per driver (best-lag r) on the `which` set of SETS, then the tracked motion statistics."""
    rows = []
    summary = evaluation.summary()
    speakers = summary[0]["speakers"]
    phonetic = next((r for r in summary if r["driver"] == "phonetic"), None)
    for r in summary:
        if "r_best" not in r:
            rows.append(Row(SECTION, f"{which}: tracked video ({r['videos']} videos): head motion", r["head_sd_deg"], "deg sd",
                            note=_motion(r)))
            continue
        base = phonetic["r_best"] if phonetic and r["driver"] != "phonetic" else None
        rows.append(Row(SECTION, f"{which}: {r['driver']} driver: mouth opening vs tracked, best lag within +-5 "
                                 f"frames (mean of {speakers} {SETS[which]})", r["r_best"], "r",
                        "phonetic driver" if base is not None else "", base,
                        r["r_best"] / base if base else None, target=">= 0.6 on every speaker",
                        note=f"lag 0 r = {r['r_lag0']:.3f}; one lag for all clips ({r['common_lag']:+d} frames) "
                             f"r = {r['r_common_lag']:.3f}; lowest speaker {r['r_best_lowest_speaker']:.3f}; "
                             f"lip-vertex error vs tracked {r['lip_error_mm']:.1f} mm; {_motion(r)}; plot {plot.name}"))
    cycles = evaluation.cycles_per_second()
    if cycles:
        rows.append(Row(SECTION, f"{which}: tracked real mouths: opening cycles", cycles["tracked"], "per s",
                        note=", ".join(f"{k} {v:.2f}/s" for k, v in cycles.items() if k != "tracked")))
    if evaluation.skipped:
        rows.append(Row(SECTION, f"{which}: videos skipped", len(evaluation.skipped), "",
                        note="; ".join(evaluation.skipped)))
    return rows


def lead_rows(evaluation, on_sound) -> list:
    """Per driver that leads its mouth: r at lag 0 (what a viewer sees) with its default lead, against the same
    driver with its mouth exactly on the sound (lead 0)."""
    from ..drivers.registry import driver_named

    before = {r["driver"]: r for r in on_sound.summary() if "r_lag0" in r}
    rows = []
    for r in evaluation.summary():
        if r["driver"] not in before:
            continue
        lead, base = driver_named(r["driver"]).lead_ms, before[r["driver"]]["r_lag0"]
        rows.append(Row(SECTION, f"held-out: {r['driver']} driver: mouth opening vs tracked at lag 0, the mouth "
                                 f"{lead:g} ms ahead of the sound (its default)", r["r_lag0"], "r",
                        "the same driver on the sound (lead 0)", base, r["r_lag0"] / base if base > 0 else None,
                        note=f"one lag for all clips {r['common_lag']:+d} frames (lead 0: "
                             f"{before[r['driver']]['common_lag']:+d}); best lag r {r['r_best']:.3f} "
                             f"(lead 0: {before[r['driver']]['r_best']:.3f})"))
    return rows


def speaker_rows(evaluation) -> list:
    """One row per held-out speaker: the ADF's best-lag r, every driver's (best lag and lag 0) in the note."""
    rows = []
    lag0 = {}
    for s in evaluation.scores:
        lag0.setdefault(s.speaker, {}).setdefault(s.driver, []).append(s.r_lag0)
    for speaker, by_driver in sorted(evaluation.per_speaker().items()):
        leader = "adf" if "adf" in by_driver else next(iter(by_driver))
        rows.append(Row(SECTION, f"held-out speaker {speaker}: {leader} mouth opening vs tracked, best lag", by_driver[leader],
                        "r", target=">= 0.6", note="; ".join(f"{d} {r:.2f} (lag 0 {sum(lag0[speaker][d]) / len(lag0[speaker][d]):.2f})"
                                                            for d, r in by_driver.items())))
    return rows


def default_row(evaluation) -> Row:
    """Whether the engine's default driver is the one that measures best (best-lag r on held-out speakers)."""
    from ..animate import default_driver

    default, best = default_driver(), evaluation.best_driver()
    r = {row["driver"]: row["r_best"] for row in evaluation.summary() if "r_best" in row}
    return Row(SECTION, f"the default driver ({default}) is the best measured ({best})",
               float(default == best), "yes" if default == best else "no",
               note=", ".join(f"{k} r = {v:.3f}" for k, v in sorted(r.items(), key=lambda kv: -kv[1])))


def _motion(r: dict) -> str:
    return (f"head sd {r['head_sd_deg']:.2f} deg, speed {r['head_speed_deg_s']:.1f} deg/s, "
            f"{r['blinks_per_min']:.1f} blinks/min of {r['blink_s']:.2f} s")


def closure_rows(evaluation) -> list:
    """Bilabial closure recall per driver on real recordings whose words are known."""
    rows = []
    for s in evaluation.closure:
        if s.driver.startswith("target"):
            continue
        rows.append(Row(SECTION, f"{s.driver}: bilabial closure recall on real voices with known words "
                                 f"({s.bilabials} p/b/m)", s.closure_recall, "",
                        note=f"precision {s.closure_precision if s.closure_precision is not None else float('nan'):.2f}; "
                             f"truth: forced alignment of the words"))
    return rows


def language_rows(languages: list) -> list:
    """Opening cycles per second and loudness correlation per language and driver."""
    return [Row(SECTION, f"{r['language']} ({r['recordings']} recordings, {r['seconds']:.0f} s), {r['driver']} driver: "
                         f"mouth opening cycles", r["cycles_per_s"], "per s",
                note=f"voice syllables {r['syllables_per_s']:.2f}/s; r with loudness {r['r_loudness']:.2f}; lips shut {100 * r['shut_share']:.0f}% of frames; "
                     f"gap mean {r['mean_gap_mm']:.1f} mm, 95th pct {r['p95_gap_mm']:.1f} mm") for r in languages]
