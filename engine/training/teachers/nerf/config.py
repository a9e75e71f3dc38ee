"""NeRFConfig: every choice of a NeRF teacher fit in one dataclass; unknown keys are errors.

The resolved config is saved beside the checkpoint (config.json) and inside
it, so a fitted teacher always says how it was made and rebuilds its field.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ....errors import InputError
from ...config_file import ConfigFile

# Keys that may change when a run resumes: they steer the loop, not what is learned.
RESUMABLE_KEYS = ("steps", "threads", "log_every", "checkpoint_every", "render_chunk")


@dataclass
class NeRFConfig(ConfigFile):
    """One NeRF teacher fit: the field, the ray sampling, the optimisation."""

    KIND = "NeRF"

    # field: a multi-resolution tri-plane and two small MLPs (ER-NeRF / RAD-NeRF class)
    plane_resolutions: list = field(default_factory=lambda: [64, 128, 256])  # cells per side, one plane set each
    plane_channels: int = 8          # features per plane and level (concatenated: 3 planes x levels x this)
    hidden: int = 64                 # width of the density and colour MLPs
    geometry_features: int = 15      # features the density MLP passes to the colour MLP
    direction_frequencies: int = 2   # sinusoidal frequencies of the canonical view direction
    region_attention: bool = True    # ER-NeRF region attention: the point's features gate the condition code
    density_scale: float = 100.0     # density per metre of a unit softplus output
    density_bias: float = -4.0       # added before the softplus: the untrained field is faint, not a fog
    # rays
    samples: int = 64                # stratified samples per light segment
    importance_samples: int = 32     # extra samples drawn from the first pass's weights (0 = single pass)
    occupancy_resolution: int = 64   # cells per side of the occupancy grid that skips empty space (0 = none)
    occupancy_every: int = 16        # steps between grid updates (the grid is used from the first one on)
    occupancy_start: int = 64        # steps before the first update (the field first finds the head)
    occupancy_opacity: float = 0.01  # a cell this opaque (or a neighbour of one) is occupied
    # optimisation
    steps: int = 2000
    rays_per_step: int = 1024        # rays drawn from all frames (only rays that cross the head's box)
    learning_rate: float = 1e-2      # the MLPs' Adam rate; decays exponentially to final_lr_fraction of it
    plane_lr_scale: float = 3.0      # the planes learn this much faster
    final_lr_fraction: float = 0.1
    alpha_weight: float = 1.0        # weight of the opacity error beside the premultiplied colour error
    plane_tv_weight: float = 0.0     # total variation on the planes (smooths what few views see)
    # bookkeeping
    seed: int = 0
    threads: int = 1                 # torch CPU threads
    log_every: int = 50              # steps between log.jsonl lines
    checkpoint_every: int = 500      # steps between atomic checkpoints (0 = only at the end)
    render_chunk: int = 1024         # rays per network pass when rendering whole images

    def __post_init__(self) -> None:
        self.plane_resolutions = [int(r) for r in self.plane_resolutions]
        for name in ("plane_channels", "hidden", "geometry_features", "samples", "steps", "rays_per_step",
                     "threads", "log_every", "render_chunk", "occupancy_every"):
            if int(getattr(self, name)) < 1:
                raise InputError(f"NeRF config '{name}' must be at least 1, not {getattr(self, name)}.")
        if not self.plane_resolutions or min(self.plane_resolutions) < 2:
            raise InputError("NeRF config 'plane_resolutions' needs at least one resolution of 2 or more.")
        for name in ("importance_samples", "direction_frequencies", "checkpoint_every", "occupancy_resolution",
                     "occupancy_start"):
            if int(getattr(self, name)) < 0:
                raise InputError(f"NeRF config '{name}' must be 0 or more, not {getattr(self, name)}.")
        if not 0.0 < self.occupancy_opacity < 1.0:
            raise InputError(f"NeRF config 'occupancy_opacity' must be between 0 and 1, not {self.occupancy_opacity}.")
        if self.density_scale <= 0 or self.learning_rate <= 0 or not 0 < self.final_lr_fraction <= 1:
            raise InputError("NeRF config needs a positive density_scale and learning_rate, "
                             "and a final_lr_fraction in (0, 1].")

    def differences(self, other: "NeRFConfig") -> list:
        """Names of the fields, other than RESUMABLE_KEYS, whose values differ from `other`'s."""
        mine, theirs = self.to_dict(), other.to_dict()
        return sorted(k for k in mine if k not in RESUMABLE_KEYS and mine[k] != theirs[k])
