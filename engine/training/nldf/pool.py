"""The active pool (R2L's hard-ray pool, NLDF's active sampling): items with high error are drawn more often.

Items are rays ("rays" mode) or frames ("superres" mode). Every item has an
error estimate, updated from the loss each time it is drawn (an exponential
moving average). Every `refresh` steps the pool is rebuilt from the items with
the highest estimates; a batch is `hard_fraction` drawn from the pool and the
rest drawn uniformly from all items, so every item keeps being visited and an
item leaves the pool once the student has learnt it.
"""

from __future__ import annotations

import numpy as np


class ActivePool:
    """Error estimates of `count` items and the pool of the hardest ones."""

    def __init__(self, count: int, pool_fraction: float, hard_fraction: float, decay: float) -> None:
        self.count = int(count)
        self.capacity = max(1, int(round(pool_fraction * self.count))) if pool_fraction > 0 else 0
        self.hard_fraction = float(hard_fraction)
        self.decay = float(decay)
        self.errors = np.zeros(self.count, np.float32)
        self.seen = np.zeros(self.count, bool)
        self.hard = np.zeros(0, np.int64)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Indices [n]: round(hard_fraction n) from the pool (once it has items), the rest uniform."""
        n_hard = int(round(self.hard_fraction * n)) if self.hard.size else 0
        uniform = rng.integers(0, self.count, n - n_hard)
        hard = self.hard[rng.integers(0, self.hard.size, n_hard)] if n_hard else np.zeros(0, np.int64)
        return np.concatenate([uniform, hard]).astype(np.int64)

    def update(self, indices: np.ndarray, errors: np.ndarray) -> None:
        """Fold new errors [n] of items `indices` [n] into their estimates (the first one is taken as it is)."""
        indices = np.asarray(indices, np.int64)
        errors = np.asarray(errors, np.float32)
        old = self.errors[indices]
        self.errors[indices] = np.where(self.seen[indices], self.decay * old + (1.0 - self.decay) * errors, errors)
        self.seen[indices] = True

    def refresh(self) -> None:
        """Rebuild the pool: the `capacity` seen items with the highest error estimates."""
        seen = np.flatnonzero(self.seen)
        if self.capacity == 0 or seen.size == 0:
            self.hard = np.zeros(0, np.int64)
            return
        k = min(self.capacity, seen.size)
        top = np.argpartition(self.errors[seen], seen.size - k)[seen.size - k:]
        self.hard = np.sort(seen[top])

    def state(self) -> dict:
        """Arrays to checkpoint."""
        return {"errors": self.errors.copy(), "seen": self.seen.copy(), "hard": self.hard.copy()}

    def load_state(self, state: dict) -> None:
        if len(state["errors"]) != self.count:
            return  # another frame set: start the estimates afresh
        self.errors, self.seen, self.hard = (np.asarray(state[k]).copy() for k in ("errors", "seen", "hard"))
