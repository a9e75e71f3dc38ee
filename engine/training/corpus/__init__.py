"""The synthetic corpus: hours of speech whose phone timings come from the synthesizer itself.

espeak-ng (many voices, variants, rates and pitches) speaks sentences from a
seeded generator; its phoneme events give the phones; `engine.drivers.phonetic.perform`
renders the head performance from those clean timings in a sampled speaking
style; the voice is then augmented. Festival is kept apart as a held-out voice.

    espeak.py         libespeak-ng through ctypes: audio + phoneme events -> phones
    espeak_phones.py  espeak mnemonics -> ARPAbet
    augment.py        speed, tempo, EQ, reverb, noise, clipping, level
    variation.py      seeded draws of voice settings, styles and augmentations
    config.py         CorpusConfig (unknown keys are errors), saved with the corpus
    recipe.py         one clip, one shard
    shard.py          CorpusClip and the shard file format
    build.py          build_corpus: workers, resuming, manifest, progress

The seeded sentences (`engine.evaluation.sentences`) and festival (`engine.evaluation.festival`:
kal_diphone's audio + segment timings, the held-out clips) live with evaluation, which the runtime
may import; this package borrows them. Nothing here imports torch or bpy.
"""

from ...evaluation.festival import heldout_festival_clips, synthesize_festival
from ...evaluation.sentences import SentenceGenerator
from .build import BuildSummary, build_corpus
from .config import AugmentationConfig, CorpusConfig, read_config
from .espeak import synthesize_espeak
from .shard import CorpusClip, iter_corpus, load_shard

__all__ = ["AugmentationConfig", "BuildSummary", "CorpusClip", "CorpusConfig", "SentenceGenerator",
           "build_corpus", "heldout_festival_clips", "iter_corpus", "load_shard", "read_config",
           "synthesize_espeak", "synthesize_festival"]
