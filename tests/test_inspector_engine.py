"""The engine's side of the inspector: a fresh random batch per Inspect, answered at once and
then again with the gradient check of that same batch."""

import numpy as np

from bp_tui.engine import HyperParams, RunState
from bp_tui.engine import commands as cmd
from bp_tui.engine import events as ev
from tests.test_engine import DATA, of, run_engine


def test_inspect_draws_a_fresh_batch_and_answers_twice():
    _, events = run_engine(
        HyperParams(iters=3),
        [cmd.Inspect(), cmd.Inspect(), cmd.Inspect(seed=5), cmd.Run()],
        start=False,
    )
    answers = of(events, ev.Inspection)
    assert len(answers) == 6
    assert [a.report is None for a in answers] == [True, False] * 3
    for first, checked in zip(answers[::2], answers[1::2], strict=True):
        np.testing.assert_array_equal(first.indices, checked.indices)
        np.testing.assert_array_equal(first.x, DATA.x_train[first.indices])
        np.testing.assert_array_equal(first.t, DATA.t_train[first.indices])
        assert len(set(first.indices.tolist())) == 100
        assert "100 random training images" in checked.report.batch
        assert checked.report.passed
    a, b = answers[0].indices, answers[2].indices
    assert not np.array_equal(a, b)  # fresh each time
    assert not np.array_equal(a, np.arange(100))
    assert of(events, ev.StateChanged)[-1].state is RunState.FINISHED
