"""The charts' data: the binned loss line, its smoothing, and iterations as epochs."""

import numpy as np
import pytest

from bp_tui.ui.series import BinnedSeries, EpochScale, smoothed_blocks


def ema(values, smoothing):
    level, out = None, []
    for value in values:
        level = value if level is None else value + smoothing * (level - value)
        out.append(level)
    return out


def test_smoothing_again_gives_the_line_smoothed_from_the_start():
    values = np.random.default_rng(0).normal(2.0, 0.5, 300)
    series = BinnedSeries(smoothing=0.95)
    series.extend(values)
    series.set_smoothing(0.6)
    _, _, smoothed = series.points()
    assert smoothed == pytest.approx(ema(values, 0.6))  # one value a bin: exact
    assert series.smoothed == pytest.approx(ema(values, 0.6)[-1])
    series.append(1.0)  # and it goes on at the new strength
    assert series.smoothed == pytest.approx(ema([*values, 1.0], 0.6)[-1])


def test_a_block_of_equal_values_moves_the_average_as_its_iterations_would():
    blocks = smoothed_blocks(np.array([4.0, 1.0]), np.array([1, 10]), 0.9)
    assert blocks[-1] == pytest.approx(ema([4.0] + [1.0] * 10, 0.9)[-1])
    assert smoothed_blocks(np.array([4.0, 1.0]), np.array([5, 5]), 0.0).tolist() == [4.0, 1.0]


def test_epochs_follow_a_batch_size_changed_mid_run():
    # 100 images an epoch... of 1,000: batch 100 for 20 iterations (2 epochs), then batch 200.
    scale = EpochScale([(10, 1.0), (20, 2.0), (30, 4.0)])
    assert scale([0, 5, 20, 25, 30]).tolist() == [0.0, 0.5, 2.0, 3.0, 4.0]
    assert scale([40]).tolist() == [6.0]  # past the last report, at the last pace
    assert EpochScale()([10]).tolist() == [0.0]  # nothing reported yet
