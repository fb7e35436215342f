"""The engine's fast paths give the very numbers of the plain ones: the fused step, the byte
gather, SGD in place and the evaluation beside training (issue 13)."""

import queue
import threading

import numpy as np
import pytest

from bp_tui.data.datasets import to_float
from bp_tui.engine import HyperParams, Trainer
from bp_tui.engine import events as ev
from bp_tui.engine.loop import Engine
from bp_tui.engine.trainer import as_bytes
from bp_tui.nn.model import LayerNet, NetSpec
from bp_tui.nn.net import TwoLayerNet
from bp_tui.nn.optimizers import SGD
from tests.helpers import WAIT_SECONDS, TinyData, tiny_data


def byte_data(seed: int = 0) -> TinyData:
    """tiny_data's blobs as images are: bytes scaled by data.to_float."""
    d = tiny_data(seed=seed)

    def as_images(x):
        return to_float(np.rint(x * 255).astype(np.uint8))

    return TinyData(d.name, as_images(d.x_train), d.t_train, as_images(d.x_test), d.t_test)


BYTES = byte_data()


def test_the_fused_step_is_the_layers_step_bit_for_bit():
    rng = np.random.default_rng(1)
    kwargs = dict(dtype=np.float32, input_grad=False)
    fused = TwoLayerNet(784, 50, 10, rng=np.random.default_rng(5), **kwargs)
    plain = TwoLayerNet(784, 50, 10, rng=np.random.default_rng(5), **kwargs)
    for _ in range(30):
        rows = rng.integers(0, len(BYTES.x_train), 100)
        x, t = BYTES.x_train[rows], BYTES.t_train[rows].astype(np.intp)
        loss_a, grads_a = fused.loss_and_gradient(x, t, reuse=True)
        loss_b, grads_b = plain.loss_and_gradient(x, t)
        assert loss_a == loss_b
        for key in grads_a:
            np.testing.assert_array_equal(grads_a[key], grads_b[key])
        # The layers hold what their own passes leave (analysis reads dW and db).
        assert fused.layers["Affine1"].dW is grads_a["W1"]
        np.testing.assert_array_equal(fused.layers["Relu1"].mask, plain.layers["Relu1"].mask)
        np.testing.assert_array_equal(fused.lastLayer.y, plain.lastLayer.y)
        SGD(0.1).update(fused.params, grads_a)
        SGD(0.1).update(plain.params, grads_b)
    assert fused._workspace is not None


@pytest.mark.parametrize("hidden", [(30,), (40, 20), (50, 30, 20, 10)])
def test_the_fused_step_is_the_layers_step_bit_for_bit_at_any_depth(hidden):
    rng = np.random.default_rng(2)
    spec = NetSpec(784, hidden, 10, "relu", "he")
    kwargs = dict(dtype=np.float32, input_grad=False)
    fused = LayerNet(spec, rng=np.random.default_rng(7), **kwargs)
    plain = LayerNet(spec, rng=np.random.default_rng(7), **kwargs)
    assert list(fused.params) == [f"{p}{i}" for i in range(1, len(hidden) + 2) for p in "Wb"]
    for _ in range(20):
        rows = rng.integers(0, len(BYTES.x_train), 64)
        x, t = BYTES.x_train[rows], BYTES.t_train[rows].astype(np.intp)
        loss_a, grads_a = fused.loss_and_gradient(x, t, reuse=True)
        loss_b, grads_b = plain.loss_and_gradient(x, t)
        assert loss_a == loss_b and list(grads_a) == list(grads_b)
        for key in grads_a:
            np.testing.assert_array_equal(grads_a[key], grads_b[key])
        for key, layer in fused.layers.items():  # the state their own passes leave
            if key.startswith("Relu"):
                np.testing.assert_array_equal(layer.mask, plain.layers[key].mask)
            else:
                np.testing.assert_array_equal(layer.dW, plain.layers[key].dW)
        SGD(0.1).update(fused.params, grads_a)
        SGD(0.1).update(plain.params, grads_b)
    assert fused._workspace is not None and plain._workspace is None


def test_the_fused_path_is_only_taken_where_it_holds():
    net = TwoLayerNet(784, 20, 10, dtype=np.float32, input_grad=False, activation="sigmoid")
    x, t = BYTES.x_train[:10], BYTES.t_train[:10]
    net.loss_and_gradient(x, t, reuse=True)
    assert net._workspace is None  # sigmoid: the layers' path
    relu = TwoLayerNet(784, 20, 10, dtype=np.float32, input_grad=False)
    relu.loss_and_gradient(x.astype(np.float64), t, reuse=True)  # not the weights' dtype
    one_hot = np.eye(10)[t]
    relu.loss_and_gradient(x, one_hot, reuse=True)  # rows of targets
    assert relu._workspace is None


def test_images_are_gathered_from_their_bytes_only_when_exact():
    images = as_bytes(BYTES.x_train)
    assert images is not None and images.dtype == np.uint8
    np.testing.assert_array_equal(images / np.float32(255), BYTES.x_train)
    assert as_bytes(tiny_data().x_train) is None  # not bytes / 255
    nan = BYTES.x_train.copy()
    nan[3, 4] = np.nan
    assert as_bytes(nan) is None
    trainer = Trainer(HyperParams(), BYTES)
    mask = np.arange(0, 600, 7)
    np.testing.assert_array_equal(trainer._gather(mask), BYTES.x_train[mask])


@pytest.mark.parametrize("optimizer", ["sgd", "momentum"])
def test_the_fast_step_trains_as_the_plain_one(optimizer):
    hp = HyperParams(iters=60, seed=3, optimizer=optimizer)
    fast, plain = Trainer(hp, BYTES), Trainer(hp, BYTES)
    assert fast._x_train_bytes is not None

    def plain_step():  # the step as it was: float gather, layers, optimizer.update
        mask = plain.rng.integers(0, plain.train_size, size=hp.batch_size)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            loss, grads = plain.net.loss_and_gradient(plain.x_train[mask], plain.t_train[mask])
            plain.optimizer.update(plain.net.params, grads)
        return float(loss)

    assert [fast.step() for _ in range(60)] == [plain_step() for _ in range(60)]
    for key, value in fast.net.params.items():
        np.testing.assert_array_equal(value, plain.net.params[key])


def run(hp, overlap: bool, data=BYTES):
    events = []
    engine = Engine(
        Trainer(hp, data),
        events.append,
        queue.Queue(),
        dataset=data.name,
        exit_when_done=True,
        progress_interval=0,
        overlap_evaluation=overlap,
    )
    worker = threading.Thread(target=engine.run)
    worker.start()
    worker.join(timeout=WAIT_SECONDS)
    assert not worker.is_alive()
    return engine, events


def test_evaluations_beside_training_are_the_same_at_the_same_iterations():
    hp = HyperParams(iters=40, lr=0.5, seed=2)
    _, inline = run(hp, overlap=False)
    engine, beside = run(hp, overlap=True)

    def evaluations(events):
        return [e for e in events if isinstance(e, ev.Evaluation)]

    assert evaluations(beside) == evaluations(inline)
    assert [e.iteration for e in evaluations(beside)] == [6, 12, 18, 24, 30, 36, 40]
    # Every one is sent before the run's end, and the summary reports the last.
    kinds = [type(e) for e in beside]
    assert kinds.index(ev.Finished) > max(i for i, k in enumerate(kinds) if k is ev.Evaluation)
    (finished,) = [e for e in beside if isinstance(e, ev.Finished)]
    (inline_finished,) = [e for e in inline if isinstance(e, ev.Finished)]
    for key in ("iterations", "final_loss", "train_acc", "test_acc"):
        assert finished.summary[key] == inline_finished.summary[key]
    assert engine.trainer.evaluations == evaluations(inline)
    assert engine.trainer.evaluations_pending == 0


def test_a_reset_drops_the_evaluations_under_way():
    trainer = Trainer(HyperParams(iters=10), BYTES)
    trainer.step()
    trainer.evaluate_later()
    trainer.reset()
    assert trainer.evaluations_pending == 0
    assert trainer.take_evaluations(wait=True) == []
    trainer.step()
    trainer.evaluate_later()
    (done,) = trainer.take_evaluations(wait=True)
    assert done.iteration == 1 and trainer.evaluations == [done]


def test_the_parameters_are_slices_of_one_array_and_sgd_updates_it_at_once():
    net = TwoLayerNet(784, 50, 10, rng=np.random.default_rng(5), dtype=np.float32)
    flat = net.flat_params()
    assert flat is not None and flat.size == 784 * 50 + 50 + 50 * 10 + 10
    for value in net.params.values():
        assert value.base is flat and value.flags.c_contiguous and value.dtype == np.float32
    assert net.layers["Affine1"].W is net.params["W1"]
    # The values astype gave before: float64 draws rounded to float32.
    reference = TwoLayerNet(784, 50, 10, rng=np.random.default_rng(5))
    for key, value in reference.params.items():
        np.testing.assert_array_equal(net.params[key], value.astype(np.float32))
    # Another array put in params: no flat view any more (the trainer then updates each).
    net.params["b2"] = net.params["b2"].copy()
    assert net.flat_params() is None


def test_sgd_in_one_operation_is_sgd_update_and_falls_back_when_params_are_rebound():
    hp = HyperParams(iters=30, seed=4)
    fast, plain = Trainer(hp, BYTES), Trainer(hp, BYTES)
    for _ in range(10):
        fast.step()
        mask = plain.rng.integers(0, plain.train_size, size=hp.batch_size)
        loss, grads = plain.net.loss_and_gradient(plain.x_train[mask], plain.t_train[mask])
        plain.optimizer.update(plain.net.params, grads)
    for key, value in fast.net.params.items():
        np.testing.assert_array_equal(value, plain.net.params[key])
    fused = fast.net._workspace
    grads = dict(zip(fast.net.param_names, fused.grad_views, strict=True))
    assert fast.net.flat_gradient(grads) is fused.grad
    # A caller rebinds a parameter: each one is updated on its own, still as SGD.update.
    fast.net.params["W2"] = fast.net.params["W2"].copy()
    fast.net.layers["Affine2"].W = fast.net.params["W2"]
    before = fast.net.params["W2"].copy()
    fast.step()
    assert not np.array_equal(fast.net.params["W2"], before)


def test_the_relu_mask_is_applied_as_the_layer_does_with_nan_and_infinity():
    net = TwoLayerNet(784, 50, 10, rng=np.random.default_rng(2), dtype=np.float32, input_grad=False)
    plain = TwoLayerNet(
        784, 50, 10, rng=np.random.default_rng(2), dtype=np.float32, input_grad=False
    )
    for model in (net, plain):  # huge output weights: dout overflows to inf and nan
        model.params["W2"][...] = 3e38
        model.params["W2"][:, ::2] = -3e38
    x, t = BYTES.x_train[:100], BYTES.t_train[:100].astype(np.intp)
    with np.errstate(all="ignore"):
        _, fused = net.loss_and_gradient(x, t, reuse=True)
        _, layers = plain.loss_and_gradient(x, t)
    for key in fused:
        np.testing.assert_array_equal(fused[key], layers[key])


def test_training_on_a_loaded_data_set_reads_its_bytes_and_makes_no_float_copy():
    from bp_tui.data import load_dataset

    data = load_dataset("sample")
    trainer = Trainer(HyperParams(iters=5, seed=1), data)
    assert trainer._x_train_bytes is data.image_bytes("train")
    for _ in range(5):
        trainer.step()
    on_bytes = trainer.evaluate()
    assert data._floats == {}  # no float32 copy was made to train or evaluate
    # The same run on the float images (bytes found by as_bytes) gives the same numbers.
    floats = TinyData("sample", data.x_train, data.t_train, data.x_test, data.t_test)
    other = Trainer(HyperParams(iters=5, seed=1), floats)
    assert [other.step() for _ in range(5)] == list(trainer.losses)
    assert other.evaluate() == on_bytes
    np.testing.assert_array_equal(trainer.x_test, data.x_test)


def test_a_caller_waiting_for_an_evaluation_counts_parts_of_it():
    from bp_tui.engine.jobs import BackgroundJobs, Job

    helped = threading.Event()

    def first() -> int:  # the evaluator's thread: done only once the caller has counted
        assert helped.wait(WAIT_SECONDS)
        return 1

    def second() -> int:
        helped.set()
        return 2

    evaluator = BackgroundJobs()
    evaluator.submit(Job([first, second, lambda: 4], sum))
    evaluator.submit(Job([], lambda counts: "no rows"))
    assert evaluator.take(wait=True) == [7, "no rows"]
    assert helped.is_set() and evaluator.pending == 0

    def fails() -> int:
        raise ArithmeticError("part")

    evaluator.submit(Job([lambda: 1, fails], sum))
    with pytest.raises(ArithmeticError):
        evaluator.take(wait=True)


def test_evaluations_in_parts_are_the_whole_sets_accuracy():
    from bp_tui.data import load_dataset

    data = load_dataset("sample")
    trainer = Trainer(HyperParams(iters=50, seed=3), data)
    for _ in range(50):
        trainer.step()
    e = trainer.evaluate()
    net = trainer.net
    assert e.train_acc == net.accuracy(trainer.x_train, trainer.t_train)
    assert e.test_acc == net.accuracy(trainer.x_test, trainer.t_test)
    trainer.evaluate_later()
    assert trainer.take_evaluations(wait=True) == [e]


def test_the_relu_forward_gives_the_layers_very_bits_with_nan_and_infinity():
    """The fused ReLU and's the pre-activation's bits with a mask: NaN of either sign, and the
    infinities, come out as np.maximum(x, 0) gives them."""
    net, plain = (
        TwoLayerNet(784, 50, 10, rng=np.random.default_rng(3), dtype=np.float32, input_grad=False)
        for _ in range(2)
    )
    for model in (net, plain):
        W1 = model.params["W1"]
        W1[:, 0], W1[:, 1], W1[:, 2] = np.nan, np.inf, -np.inf  # NaN, inf and inf - inf (-NaN)
        W1[::2, 3] = np.inf
        W1[1::2, 3] = -np.inf
    x = BYTES.x_train[:100] + np.float32(0.01)  # no zero pixel: inf * x stays infinite
    t = BYTES.t_train[:100].astype(np.intp)
    with np.errstate(all="ignore"):
        net.loss_and_gradient(x, t, reuse=True)
        plain.loss_and_gradient(x, t)
    fused_out, layers_out = net.layers["Affine2"].x, plain.layers["Affine2"].x
    assert np.isnan(layers_out[:, 0]).all() and np.isinf(layers_out[:, 1]).all()
    assert (layers_out[:, 2] == 0).all() and np.isnan(layers_out[:, 3]).all()
    np.testing.assert_array_equal(fused_out.view(np.int32), layers_out.view(np.int32))
    np.testing.assert_array_equal(net.layers["Relu1"].mask, plain.layers["Relu1"].mask)
