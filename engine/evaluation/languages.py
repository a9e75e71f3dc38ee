"""eval-lipsync in other languages: each driver's mouth opening cycles, shut lips and gap against the
voice's syllables and loudness, per language of the dreamtalk recordings (and English). No torch."""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from ..progress import Reporter, silent
from .measures import SHUT_MM, SYLLABLE_DB, loudness, opening_cycles, peaks

LANGUAGES = {"German": "German", "French": "french", "Italian": "italian", "Spanish": "spanish",
             "Japanese": "japan", "Korean": "korean", "Chinese": "chinese"}   # name: dreamtalk file prefix


def language_recordings(speech) -> dict:
    """{language: [paths]} of the dreamtalk recordings per language, and English (LibriVox, JFK)."""
    speech = Path(speech)
    out = {name: sorted((speech / "dreamtalk").glob(f"{prefix}*.wav")) for name, prefix in LANGUAGES.items()}
    out["English"] = sorted((speech / "librivox").glob("*.wav")) + [p for p in [speech / "whisper_jfk.flac"]
                                                                     if p.is_file()]
    return {k: v for k, v in out.items() if v}


def language_statistics(speech, drivers: Sequence[str] = ("adf", "phonetic", "energy"), fps: float = 30.0,
                        reporter: Optional[Reporter] = None) -> list:
    """Per language and driver over its recordings: seconds, mouth opening cycles per second beside
    the voice's syllables per second (loudness peaks of SYLLABLE_DB), the share of frames with the
    lips shut (< SHUT_MM), mean and 95th-percentile gap (mm), and the correlation of the gap with the
    voice's loudness (does the mouth open and close with the syllables)."""
    from ..animate import animate
    from ..audio import load_audio
    from ..head import load_head
    from ..drivers.phonetic.metrics import mouth_opening

    reporter = reporter or silent()
    head = load_head()
    recordings = language_recordings(speech)
    rows = []
    reporter.stage("animating the languages", len(recordings) * len(drivers))
    for language, paths in recordings.items():
        audios = [load_audio(p) for p in paths]
        for driver in drivers:
            gaps, envelopes = [], []
            for audio in audios:
                gap = mouth_opening(head, animate(audio, fps=fps, driver=driver))
                gaps.append(gap)
                envelopes.append(loudness(audio, fps, gap.size))
            rows.append(_language_row(language, driver, gaps, envelopes, fps))
            reporter.update(len(rows))
    return rows


def _language_row(language, driver, gaps, envelopes, fps) -> dict:
    seconds = sum(g.size for g in gaps) / fps
    allg = np.concatenate(gaps)
    r = [float(np.corrcoef(g, e)[0, 1]) if g.std() > 1e-9 and e.std() > 1e-9 else 0.0 for g, e in zip(gaps, envelopes)]
    return {"language": language, "driver": driver, "recordings": len(gaps), "seconds": seconds,
            "cycles_per_s": sum(opening_cycles(g) for g in gaps) / seconds,
            "syllables_per_s": sum(peaks(e, SYLLABLE_DB) for e in envelopes) / seconds, "shut_share": float(np.mean(allg < SHUT_MM)),
            "mean_gap_mm": float(allg.mean()), "p95_gap_mm": float(np.percentile(allg, 95)),
            "r_loudness": float(np.mean(r))}
