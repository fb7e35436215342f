"""bp_tui.nn.analysis: predictions, confusion, histograms, dead units, and the engine's Insight."""

import pickle
import queue

import numpy as np
import pytest

from bp_tui.engine import HyperParams, Trainer
from bp_tui.engine import commands as cmd
from bp_tui.engine import events as ev
from bp_tui.engine.loop import Engine
from bp_tui.nn import analysis
from bp_tui.nn.functions import softmax
from bp_tui.nn.net import TwoLayerNet
from tests.helpers import tiny_data

DATA = tiny_data()


# The separate, plainer computations summarize() is checked against (the engine uses only it).


def predict_all(net, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The predicted label of each row and its softmax probability (the net's confidence)."""
    labels = np.zeros(len(x), dtype=np.intp)
    confidences = np.zeros(len(x), dtype=np.float32)
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging net gives inf and NaN
        for start in range(0, len(x), analysis.CHUNK):
            rows = slice(start, start + analysis.CHUNK)
            probabilities = softmax(net.predict(x[rows]))
            labels[rows] = probabilities.argmax(axis=1)
            confidences[rows] = probabilities[np.arange(len(probabilities)), labels[rows]]
    return labels, confidences


def unit_activity(net, x: np.ndarray) -> np.ndarray | None:
    """Share of the rows of x on which each hidden ReLU fires (output > 0); None for Sigmoid,
    whose output is never exactly 0."""
    if net.activation != "relu":
        return None
    w1, b1 = net.params["W1"], net.params["b1"]
    fired = np.zeros(w1.shape[1], dtype=np.int64)
    with np.errstate(over="ignore", invalid="ignore"):
        for start in range(0, len(x), analysis.CHUNK):
            # ReLU's output is above 0 exactly where Affine1's is.
            fired += np.count_nonzero(x[start : start + analysis.CHUNK] @ w1 + b1 > 0, axis=0)
    return fired / max(len(x), 1)


def dead_units(net, x: np.ndarray) -> float | None:
    """Share of hidden units that fire on no row of x (dead ReLUs); None for Sigmoid."""
    activity = unit_activity(net, x)
    return None if activity is None else float(np.mean(activity == 0))


def small_net(activation="relu", hidden=6, seed=0):
    rng = np.random.default_rng(seed)
    return TwoLayerNet(784, hidden, 10, 0.1, activation=activation, rng=rng, dtype=np.float32)


def test_predict_all_gives_the_argmax_and_its_softmax_probability(monkeypatch):
    net = small_net()
    x = DATA.x_test[:50]
    monkeypatch.setattr(analysis, "CHUNK", 7)  # several chunks, the last one short
    labels, confidences = predict_all(net, x)
    probabilities = softmax(net.predict(x).astype(np.float64))
    assert labels.tolist() == probabilities.argmax(axis=1).tolist()
    np.testing.assert_allclose(confidences, probabilities.max(axis=1), rtol=1e-5)
    # The largest of ten probabilities is at least a tenth.
    assert confidences.dtype == np.float32 and np.all(
        (confidences >= 0.1 - 1e-6) & (confidences <= 1)
    )


def test_confusion_matrix_counts_true_rows_against_predicted_columns():
    true = np.array([0, 0, 1, 2, 2, 2])
    predicted = np.array([0, 1, 1, 2, 0, 2])
    counts = analysis.confusion_matrix(true, predicted, classes=3)
    assert counts.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]
    assert analysis.confusion_matrix([], [], classes=10).shape == (10, 10)


def test_histogram_leaves_out_inf_and_nan():
    counts, edges = analysis.histogram(np.array([0.0, 1.0, 1.0, np.inf, np.nan]), bins=4)
    assert counts.sum() == 3 and len(edges) == 5
    assert edges[0] == 0.0 and edges[-1] == 1.0
    counts, edges = analysis.histogram(np.array([np.nan, -np.inf]), bins=4)
    assert counts.tolist() == [0, 0, 0, 0] and np.all(np.isfinite(edges))
    counts, _ = analysis.histogram(np.full(5, 0.25, dtype=np.float32), bins=3)
    assert counts.sum() == 5  # a constant array still has a range to fall into


def test_dead_units_are_those_that_fire_on_no_image():
    net = small_net(hidden=4)
    x = DATA.x_test
    # Unit 1 can never fire: every weight and its bias negative, the pixels are >= 0.
    net.params["W1"][:, 1] = -1.0
    net.params["b1"][1] = -1.0
    # Unit 2 always fires: pixels >= 0 times positive weights, plus a positive bias.
    net.params["W1"][:, 2] = 0.01
    net.params["b1"][2] = 1.0
    activity = unit_activity(net, x)
    assert activity[1] == 0.0 and activity[2] == 1.0
    assert dead_units(net, x) == np.mean(activity == 0) >= 0.25


def test_sigmoid_has_no_dead_units():
    net = small_net("sigmoid")
    assert unit_activity(net, DATA.x_test) is None
    assert dead_units(net, DATA.x_test) is None
    summary = analysis.summarize(net, DATA.x_test, DATA.t_test)
    assert summary["fire_rate"] is None and summary["dead_fraction"] is None


def test_mistakes_most_confident_first_ties_in_test_set_order():
    true = np.array([0, 1, 2, 3, 4, 5])
    predicted = np.array([0, 2, 2, 0, 1, 9])
    confidences = np.array([0.9, 0.5, 0.99, 0.8, 0.5, 0.7], dtype=np.float32)
    assert analysis.mistake_order(true, predicted, confidences).tolist() == [3, 5, 1, 4]


def test_as_bytes_round_trips_mnist_pixels():
    pixels = np.arange(256, dtype=np.uint8)
    assert analysis.as_bytes(pixels.astype(np.float32) / 255).tolist() == pixels.tolist()
    assert analysis.as_bytes(np.array([-0.5, 2.0])).tolist() == [0, 255]


def test_summarize_matches_the_separate_functions():
    trainer = Trainer(HyperParams(iters=20, lr=0.5, hidden=8), DATA)
    for _ in range(20):
        trainer.step()
    net, x, t = trainer.net, trainer.x_test, trainer.t_test
    s = analysis.summarize(net, x, t)
    labels, confidences = predict_all(net, x)
    assert s["predictions"].tolist() == labels.tolist()
    np.testing.assert_array_equal(s["confidences"], confidences)
    assert s["confusion"].sum() == len(x)
    assert np.trace(s["confusion"]) / len(x) == pytest.approx(net.accuracy(x, t))
    np.testing.assert_allclose(s["fire_rate"], unit_activity(net, x), rtol=1e-6)
    assert s["dead_fraction"] == dead_units(net, x)
    assert set(s["histograms"]) == set(s["grad_histograms"]) == {"W1", "b1", "W2", "b2"}
    assert s["histograms"]["W1"][0].sum() == 784 * 8
    assert s["grad_histograms"]["b2"][0].sum() == 10
    assert s["first_weights"].shape == (784, 8) and s["first_weights"] is not net.params["W1"]
    s["first_weights"][0, 0] = 123.0  # a copy: the trainer's weights do not move
    assert net.params["W1"][0, 0] != 123.0


def test_summarize_before_any_step_has_no_gradients_and_survives_nan():
    net = small_net()
    assert analysis.summarize(net, DATA.x_test, DATA.t_test)["grad_histograms"] == {}
    net.params["W2"][:] = np.nan
    s = analysis.summarize(net, DATA.x_test, DATA.t_test)
    assert s["histograms"]["W2"][0].sum() == 0 and s["confusion"].sum() == len(DATA.x_test)


def run_engine(hp, commands=(), **options):
    events = []
    q = queue.Queue()
    for command in commands:
        q.put(command)
    engine = Engine(
        Trainer(hp, DATA),
        events.append,
        q,
        dataset=DATA.name,
        exit_when_done=True,
        progress_interval=0,
        **options,
    )
    engine.run()
    return events


def test_the_engine_sends_the_images_once_and_an_insight_after_each_evaluation():
    events = run_engine(HyperParams(iters=13, lr=0.5))
    (images,) = [e for e in events if isinstance(e, ev.ImageSet)]
    assert images.images.dtype == np.uint8 and images.images.shape == (200, 784)
    assert images.labels.tolist() == DATA.t_test.tolist()
    kinds = [type(e) for e in events]
    insights = [e for e in events if isinstance(e, ev.Insight)]
    # One for the untrained net at the start, then one right after each Evaluated.
    assert [i.iteration for i in insights] == [0, 6, 12, 13]
    for position, kind in enumerate(kinds):
        if kind is ev.Evaluation:
            assert kinds[position + 1] is ev.Insight
    assert insights[0].grad_histograms == {} and insights[-1].grad_histograms
    last = insights[-1]
    assert last.confusion.sum() == 200 and last.first_weights.shape == (784, 50)
    assert pickle.loads(pickle.dumps(last)).confusion.tolist() == last.confusion.tolist()


def test_a_reset_sends_a_fresh_insight():
    events = run_engine(HyperParams(iters=6, lr=0.5), [cmd.Reset(), cmd.Run()])
    kinds = [type(e) for e in events]
    after_reset = kinds.index(ev.RunReset) + 1
    assert kinds[after_reset] is ev.Insight
    assert events[after_reset].iteration == 0


def test_insights_off_sends_neither_images_nor_insights():
    events = run_engine(HyperParams(iters=13, lr=0.5), insights=False)
    assert not [e for e in events if isinstance(e, (ev.ImageSet, ev.Insight))]
    assert len([e for e in events if isinstance(e, ev.Evaluation)]) == 3
