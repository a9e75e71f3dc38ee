"""The active pool: rays (or frames) with high error are kept and drawn more often; learnt ones leave."""

import numpy as np

from engine.training.nldf.pool import ActivePool


def draw_counts(pool, draws=200, batch=100, seed=0):
    rng = np.random.default_rng(seed)
    return np.bincount(np.concatenate([pool.sample(batch, rng) for _ in range(draws)]), minlength=pool.count)


def test_a_ray_with_high_error_is_resampled_more():
    pool = ActivePool(1000, pool_fraction=0.01, hard_fraction=0.5, decay=0.5)
    rng = np.random.default_rng(1)
    everything = np.arange(1000)
    pool.update(everything, rng.uniform(0.0, 0.01, 1000))
    pool.update(np.array([7]), np.array([5.0]))
    pool.refresh()
    assert 7 in pool.hard and pool.hard.size == 10
    counts = draw_counts(pool)
    others = np.delete(counts, pool.hard)
    assert counts[7] > 20 * others.mean()  # 0.5 / 10 of each batch vs 0.5 / 1000


def test_without_errors_every_ray_is_drawn_alike():
    pool = ActivePool(50, pool_fraction=0.1, hard_fraction=0.5, decay=0.5)
    pool.refresh()
    assert pool.hard.size == 0  # nothing seen yet: the whole batch is uniform
    counts = draw_counts(pool, draws=400)
    assert counts.min() > 0.6 * counts.mean() and counts.max() < 1.4 * counts.mean()


def test_a_learnt_ray_leaves_the_pool():
    pool = ActivePool(100, pool_fraction=0.02, hard_fraction=0.5, decay=0.0)
    pool.update(np.arange(100), np.full(100, 0.1))
    pool.update(np.array([3, 4]), np.array([2.0, 1.0]))
    pool.refresh()
    assert set(pool.hard) == {3, 4}
    pool.update(np.array([3]), np.array([0.0]))  # the student learnt ray 3
    pool.refresh()
    assert 3 not in pool.hard and 4 in pool.hard


def test_error_estimates_are_moving_averages_and_checkpoint():
    pool = ActivePool(4, pool_fraction=0.5, hard_fraction=0.5, decay=0.5)
    pool.update(np.array([0]), np.array([1.0]))   # first sight: taken as it is
    pool.update(np.array([0]), np.array([0.0]))
    assert pool.errors[0] == 0.5 and pool.seen.tolist() == [True, False, False, False]
    pool.refresh()
    other = ActivePool(4, pool_fraction=0.5, hard_fraction=0.5, decay=0.5)
    other.load_state(pool.state())
    assert other.errors[0] == 0.5 and other.hard.tolist() == [0]
