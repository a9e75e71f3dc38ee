"""ADFConfig: every choice of a training run in one dataclass; unknown keys are errors.

The resolved config is saved beside each checkpoint (config.json) and travels
into the exported model's sidecar, so a model always says how it was made.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ...audio.features import FeatureConfig
from ...errors import InputError
from ..config_file import ConfigFile


@dataclass
class ADFConfig(ConfigFile):
    """One ADF training run."""

    KIND = "ADF"

    # model
    width: int = 128                 # channels of the temporal encoder
    layers: int = 3                  # transformer layers
    heads: int = 4                   # attention heads
    attention_reach_s: float = 0.6   # each output frame attends to +- this much audio (local attention)
    dropout: float = 0.1
    style_hidden: int = 64           # width of the style encoder
    # data
    corpora: list = field(default_factory=list)   # corpus folders (engine.training.corpus shards)
    corpus_weights: list = field(default_factory=list)  # per corpus: how often its frames are drawn (default 1)
    pairs: list = field(default_factory=list)     # folders of (voice, MotionClip) pairs, e.g. tracked takes
    pairs_weight: float = 1.0                     # how often the pairs' frames are drawn
    tracked: list = field(default_factory=list)   # folders of tracked talking videos (engine.training.real_pairs)
    tracked_weight: float = 1.0                   # how often their frames are drawn (jaw + lip gap are learned)
    known_voices: str = ""                        # ../shared/data/speech: real voices with their words (see real.py)
    known_voice_copies: int = 6                   # augmented copies of each (corpus augmentations and styles)
    known_voices_weight: float = 1.0              # how often their frames are drawn
    window_s: float = 4.0            # training windows of this much audio
    heldout_fraction: float = 0.05   # clips kept out for validation (by clip index, seeded)
    # optimisation
    init_from: str = ""              # a checkpoint whose weights start this run (a second stage); "" = random
    stop_at_step: int = 0            # stop (and checkpoint) after this many of `steps`; 0 = run them all
    steps: int = 3000
    batch: int = 32
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    warmup_steps: int = 200
    trainable: list = field(default_factory=list)  # parameter-name prefixes that learn (e.g. "encoder.2",
                                                   # "lip_head"); [] = every parameter
    keep_checkpoints: bool = False   # also keep checkpoint_<step>.pt at each checkpoint (early stopping)
    # losses
    jaw_weight: float = 8.0          # jaw (radians) weighs this much more than expression weights
    velocity_weight: float = 0.5     # L1 on frame-to-frame differences
    lip_vertex_weight: float = 0.05  # L1 on the built-in head's lip landmarks (mm, linearised)
    style_weight: float = 0.2        # style encoder regression of the style code
    phone_weight: float = 0.0        # auxiliary cross-entropy on the corpus phones (0 = off)
    closure_weight: float = 0.0      # extra L1 on the lip gap where the target's lips are closed
    gap_weight: float = 0.0          # 1 - r of the inner-lip gap with a tracked clip's (its shape, not its size)
    teacher: str = ""                # a frozen checkpoint whose outputs anchor the run (losses.distillation)
    teacher_weight: float = 0.0      # channel L1 to the teacher (performed rows: all; tracked: pose channels)
    gap_scale_weight: float = 0.0    # tracked rows: the lip gap's mean and sd (mm) kept at the teacher's
    # augmentation of the features (SpecAugment-style; the corpus already degrades the audio)
    time_masks: int = 0              # spans of up to 10 mel frames per window set to the mean
    freq_masks: int = 0              # bands of up to 8 mel bins per window set to the mean
    freq_warp: float = 0.0           # mel bins read at bin * a, a in [1 - freq_warp, 1 + freq_warp]
    # bookkeeping
    seed: int = 0
    threads: int = 2                 # torch CPU threads
    log_every: int = 50
    checkpoint_every: int = 500      # steps between checkpoints (0 = only at the end)
    features: dict = field(default_factory=lambda: FeatureConfig(voice=False).to_dict())  # log-mel is all it reads

    def __post_init__(self) -> None:
        for name in ("width", "layers", "heads", "steps", "batch", "style_hidden"):
            if int(getattr(self, name)) < 1:
                raise InputError(f"ADF config '{name}' must be at least 1, not {getattr(self, name)}.")
        if self.width % self.heads:
            raise InputError(f"ADF config 'width' ({self.width}) must be a multiple of 'heads' ({self.heads}).")
        if not 0.0 <= self.freq_warp < 0.5:
            raise InputError(f"ADF config 'freq_warp' must be between 0 and 0.5, not {self.freq_warp}.")
        if not 0.5 <= self.window_s <= 30.0:
            raise InputError(f"ADF config 'window_s' must be between 0.5 and 30 s, not {self.window_s}.")
        FeatureConfig.from_dict(self.features)

    @property
    def feature_config(self) -> FeatureConfig:
        return FeatureConfig.from_dict(self.features)
