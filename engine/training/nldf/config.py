"""NLDFConfig: every choice of a distillation run in one dataclass; unknown keys are errors.

The resolved config is saved beside each checkpoint (config.json) and travels
into the exported look's sidecar, so a look always says how it was made.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ...errors import InputError
from ...render.rays import NUM_FREQUENCIES, NUM_POINTS, RayEncoding
from ..config_file import ConfigFile

MODES = ("rays", "superres")
LOSSES = ("l2", "l1", "charbonnier")
SAMPLE_VOICE = Path(__file__).resolve().parents[2] / "data" / "voices" / "sample_en.wav"


@dataclass
class NLDFConfig(ConfigFile):
    """One NLDF distillation run."""

    KIND = "NLDF"

    # teacher frames
    look: str = "toon"               # the look's name; the mesh teacher's look (toon, clay) unless `teacher` is set
    teacher: str = ""                # "" = the mesh teacher of `look`; else a fitted NeRF teacher's checkpoint.pt
    image_size: int = 128            # teacher frames are image_size x image_size
    frames: int = 240                # training frames rendered by the teacher (cached to disk)
    eval_frames: int = 4             # held-out frames for the PSNR in log.jsonl
    shard_frames: int = 32           # frames per cached npz shard
    cache_dir: str = ""              # teacher cache folder ("" = <out>/teacher); share it between runs
    voice: str = ""                  # speech whose motion (phonetic driver) the frames follow ("" = the sample voice)
    fps: float = 30.0                # frame rate of that motion
    expression_jitter: float = 0.15  # each expression coefficient + U(-j, j), clipped to [0, 1]
    jaw_jitter: float = 0.08         # radians added to the jaw opening, clipped to the joint's limits
    neck_jitter: float = 0.15        # radians added to each neck axis, clipped to the joint's limits
    eye_jitter: float = 0.15         # radians added to each eye's x and y, clipped to the joint's limits
    yaw_range: float = 30.0          # cameras orbit the default framing by U(-yaw, yaw) degrees ...
    pitch_range: float = 15.0        # ... and U(-pitch, pitch) degrees
    # ray encoding (engine.render.rays)
    num_points: int = NUM_POINTS     # K points per light segment
    num_frequencies: int = NUM_FREQUENCIES  # sinusoidal frequencies per coordinate
    # network
    plane_resolutions: list = field(default_factory=list)  # learned tri-plane features at the segment points,
    plane_channels: int = 8          # one plane set per resolution ([] = none: the sinusoidal encoding only)
    mode: str = "rays"               # "rays": one RGBA per pixel ray; "superres": low-res rays + conv upsampling
    width: int = 128                 # residual MLP width
    blocks: int = 6                  # residual blocks (two linear layers each)
    sr_stride: int = 4               # superres: one ray per stride x stride pixels (a power of two)
    sr_features: int = 32            # superres: features per low-res ray fed to the conv head
    sr_channels: int = 32            # superres: channels of the conv head on the low-res grid ...
    sr_min_channels: int = 32        # ... halved at each x2 stage down to this many (= sr_channels: no taper)
    # optimisation
    steps: int = 3000
    batch_rays: int = 4096           # rays per step ("rays" mode)
    batch_frames: int = 4            # frames per step ("superres" mode)
    learning_rate: float = 5e-4
    plane_lr_scale: float = 5.0      # the tri-planes learn this many times faster than the network
    warmup_steps: int = 100
    loss: str = "l2"                 # per-pixel loss on premultiplied RGBA: "l2" (squared error), "l1", or
    charbonnier_eps: float = 1e-3    # "charbonnier": sqrt(e^2 + eps^2) - eps (L1 that stays smooth at 0)
    gradient_weight: float = 0.0     # superres: + this x the L1 error of the image gradients (x and y pixel
                                     # differences), region-weighted: an edge term against the blur of L2
    # active pool and region weights
    hard_fraction: float = 0.5       # share of each batch drawn from the pool of hard rays (frames in superres)
    pool_fraction: float = 0.05      # the pool holds this share of all rays, the highest errors
    pool_refresh: int = 50           # steps between pool refreshes
    error_decay: float = 0.5         # per-ray error estimate: e <- decay * e + (1 - decay) * new
    mouth_weight: float = 4.0        # extra loss weight inside the projected mouth box (weight 1 + this)
    brow_weight: float = 2.0         # extra loss weight inside the projected brow boxes
    eye_weight: float = 0.0          # extra loss weight inside the projected eye boxes (lids and whites)
    region_margin: float = 0.2       # region boxes grow by this share of their size on each side
    # bookkeeping
    seed: int = 0
    threads: int = 1                 # torch CPU threads
    log_every: int = 50              # steps between log lines (with the held-out PSNR)
    checkpoint_every: int = 200      # steps between atomic checkpoints (0 = only at the end)
    keep_checkpoints: bool = False   # also keep checkpoint_<step>.pt at each one (export the best held-out step)

    def __post_init__(self) -> None:
        for name in ("image_size", "frames", "eval_frames", "shard_frames", "num_points", "width", "blocks",
                     "steps", "batch_rays", "batch_frames", "sr_features", "sr_channels", "sr_min_channels",
                     "plane_channels", "threads", "log_every"):
            if int(getattr(self, name)) < 1:
                raise InputError(f"NLDF config '{name}' must be at least 1, not {getattr(self, name)}.")
        if self.mode not in MODES:
            raise InputError(f"NLDF config 'mode' must be one of {', '.join(MODES)}, not {self.mode!r}.")
        stride = int(self.sr_stride)
        if self.mode == "superres" and (stride < 2 or stride & (stride - 1) or self.image_size % stride):
            raise InputError(f"NLDF config 'sr_stride' must be a power of two from 2 that divides image_size "
                             f"({self.image_size}), not {self.sr_stride}.")
        self.plane_resolutions = [int(r) for r in self.plane_resolutions]
        if any(r < 2 for r in self.plane_resolutions):
            raise InputError(f"NLDF config 'plane_resolutions' must be 2 or more each, not {self.plane_resolutions}.")
        if self.loss not in LOSSES:
            raise InputError(f"NLDF config 'loss' must be one of {', '.join(LOSSES)}, not {self.loss!r}.")
        for name in ("charbonnier_eps", "gradient_weight", "mouth_weight", "brow_weight", "eye_weight"):
            if getattr(self, name) < 0:
                raise InputError(f"NLDF config '{name}' must be 0 or more, not {getattr(self, name)}.")
        for name in ("hard_fraction", "pool_fraction", "error_decay"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise InputError(f"NLDF config '{name}' must be between 0 and 1, not {getattr(self, name)}.")
        if self.num_frequencies < 0:
            raise InputError(f"NLDF config 'num_frequencies' must be 0 or more, not {self.num_frequencies}.")

    @property
    def voice_path(self) -> Path:
        return Path(self.voice) if self.voice else SAMPLE_VOICE

    @property
    def encoding(self) -> RayEncoding:
        return RayEncoding(self.num_points, self.num_frequencies, include_input=True)
