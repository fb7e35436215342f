"""The engine's chapter-6 news: each layer's ‖dW‖ as it trains, each hidden layer's activations."""

import numpy as np
import pytest

from bp_tui.engine import HyperParams, Trainer
from bp_tui.engine import events as ev
from bp_tui.engine.loop import ACTIVATION_BATCH, GRAD_NORMS_EVERY
from bp_tui.nn import stats
from tests.helpers import tiny_data
from tests.test_engine import DATA, of, run_engine


def test_grad_norms_every_few_iterations_are_those_of_the_step_taken():
    hp = HyperParams(iters=45, seed=3)
    _, events = run_engine(hp)
    sent = of(events, ev.GradNorms)
    iterations = np.concatenate([g.iterations for g in sent])
    expected = list(range(GRAD_NORMS_EVERY, 46, GRAD_NORMS_EVERY))
    assert iterations.tolist() == expected
    norms = {name: np.concatenate([g.norms[name] for g in sent]) for name in sent[0].norms}
    assert list(norms) == ["Affine1", "Affine2"]
    twin = Trainer(hp, DATA)  # the same seed steps bit for bit alike
    for k, iteration in enumerate(expected):
        while twin.iteration < iteration:
            twin.step()
        # float32 products: BLAS's thread count (the engine runs on one) moves the last digits
        assert {n: v[k] for n, v in norms.items()} == pytest.approx(
            stats.layer_grad_norms(twin.net), rel=1e-5
        )


def test_each_insight_comes_with_the_activations_of_a_test_batch():
    data = tiny_data(n_test=1_500)
    _, events = run_engine(HyperParams(iters=12, activation="sigmoid"), data=data)
    insights, activations = of(events, ev.Insight), of(events, ev.Activations)
    assert [a.iteration for a in activations] == [i.iteration for i in insights]
    for a in activations:
        assert a.activation == "sigmoid" and a.batch == ACTIVATION_BATCH
        ((name, (counts, edges)),) = a.histograms.items()
        assert name == "Sigmoid1" and counts.sum() == ACTIVATION_BATCH * 50
        assert (edges[0], edges[-1]) == (0.0, 1.0)


def test_a_deep_sigmoid_net_with_small_weights_shows_its_gradient_vanish():
    """--activation sigmoid --init std --hidden 100,100,100,100, as the engine trains it."""
    hp = HyperParams(iters=30, hidden=(100, 100, 100, 100), activation="sigmoid", init="std")
    _, events = run_engine(hp)
    sent = of(events, ev.GradNorms)
    assert list(sent[0].norms) == [f"Affine{k}" for k in range(1, 6)]
    first = np.concatenate([g.norms["Affine1"] for g in sent])
    last = np.concatenate([g.norms["Affine5"] for g in sent])
    assert len(first) == 3 and np.all(first < last * 1e-4)
    activations = of(events, ev.Activations)
    assert activations and all(
        list(a.histograms) == [f"Sigmoid{k}" for k in range(1, 5)] for a in activations
    )


def test_grad_norms_and_progress_fold_though_they_come_in_turns():
    def progress(iteration):
        return ev.Progress(iteration, 100, 0.0, 1.0, np.ones(10), 0.0, 0.0, 0.0)

    def norms(iteration, layers=("Affine1", "Affine2")):
        return ev.GradNorms(np.array([iteration]), {n: np.array([0.5]) for n in layers})

    batch: list = []
    for event in (norms(10), progress(10), norms(20), progress(20), norms(30), progress(30)):
        ev.merged(batch, event)
    assert [type(e) for e in batch] == [ev.GradNorms, ev.Progress]
    assert batch[0].iterations.tolist() == [10, 20, 30] and len(batch[1].losses) == 30
    reset = ev.RunReset(HyperParams(), (784, 50, 10))
    for event in (reset, norms(10, ("Affine1", "Affine2", "Affine3")), progress(10)):
        ev.merged(batch, event)
    assert [type(e) for e in batch] == [
        ev.GradNorms,
        ev.Progress,
        ev.RunReset,
        ev.GradNorms,
        ev.Progress,
    ]
    assert list(batch[3].norms) == ["Affine1", "Affine2", "Affine3"]
