"""Training pairs from outside the synthetic corpus: a folder of voice files, each beside the
MotionClip of the same name (`take1.wav` + `take1.npz`, `.json` or ARKit `.csv`).

This is how real performances (a tracked video's clip with its sound) join the training
set. A pair's speaking style is the clip's `metadata["style"]` when it has one (clips
this engine wrote do), else neutral; it has no phone labels, so the auxiliary phone
loss skips its frames. The clip must carry every lip channel the network predicts
(LIP_OUTPUTS); pose channels it lacks are trained towards rest.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Optional

from ...drivers.adf.channels import LIP_OUTPUTS
from ...audio import AUDIO_SUFFIXES, load_audio
from ...audio.features import FeatureConfig
from ...errors import InputError
from ...motion import MotionClip
from ...progress import Reporter, silent
from ...style import NEUTRAL, SpeakingStyle
from .data import Example, example_of

CLIP_SUFFIXES = (".npz", ".json", ".csv")


def find_pairs(folder) -> list[tuple[Path, Path]]:
    """(voice, clip) paths of `folder`, sorted; InputError for a clip without a voice or an empty folder."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"The training pairs folder '{folder}' does not exist.")
    voices = {p.stem: p for p in sorted(folder.iterdir()) if p.suffix.lower() in AUDIO_SUFFIXES}
    pairs = []
    for clip in sorted(p for p in folder.iterdir() if p.suffix.lower() in CLIP_SUFFIXES):
        if clip.stem not in voices:
            raise InputError(f"'{clip.name}' in '{folder}' has no voice file of the same name "
                             f"({', '.join(AUDIO_SUFFIXES)}).")
        pairs.append((voices[clip.stem], clip))
    if not pairs:
        raise InputError(f"'{folder}' holds no (voice, clip) pairs such as take1.wav + take1.npz.")
    return pairs


def read_clip(path: Path) -> MotionClip:
    clip = (MotionClip.from_arkit_csv(path, jaw_as_joint=True) if path.suffix.lower() == ".csv"  # JawOpen -> jaw_rx
            else MotionClip.load(path))
    missing = [name for name in LIP_OUTPUTS if name not in clip.names]
    if missing:
        raise InputError(f"The clip '{path.name}' lacks the lip channel(s) {', '.join(missing[:4])}"
                         f"{' ...' if len(missing) > 4 else ''}; the network learns lip sync from them.")
    return clip


def load_pairs(folders: Iterable, features: FeatureConfig, reporter: Optional[Reporter] = None,
               weight: float = 1.0) -> list[Example]:
    """Every (voice, clip) pair of the folders as Examples drawn with `weight`."""
    reporter = reporter or silent()
    examples = []
    for folder in folders:
        pairs = find_pairs(folder)
        reporter.stage(f"reading pairs in {folder}", len(pairs))
        for k, (voice, clip_path) in enumerate(pairs):
            clip = read_clip(clip_path)
            style = clip.metadata.get("style")
            style = SpeakingStyle.from_dict(style) if isinstance(style, dict) else NEUTRAL
            example = example_of(load_audio(voice), clip, style, features, phones=None)
            example.weight = float(weight)
            examples.append(example)
            reporter.update(k + 1)
    return examples
