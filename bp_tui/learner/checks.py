"""The check of each of the chapter's classes, against bp-tui's own (the book's formulas).

Inputs are small random float64 arrays whose shapes all differ (a transposed or unsummed array
shows as a wrong shape). Every gradient is compared with central differences of the learner's
own forward; the book's layer gives the values forward should have, and the known faults are
recognised by their numbers.
"""

from __future__ import annotations

import numpy as np

from bp_tui.learner.load import DefinedClass, Loaded, describe
from bp_tui.learner.probe import Probe, Stop, close
from bp_tui.learner.report import ClassResult, Finding
from bp_tui.nn import AddLayer, Affine, MulLayer, Relu, Sigmoid, SoftmaxWithLoss
from bp_tui.nn.functions import LOG_EPSILON, softmax

N, D, M = 3, 4, 5  # batch, inputs, outputs: all different
SEED = 20


def check_class(book_name: str, defined: DefinedClass, loaded: Loaded) -> ClassResult:
    probe = Probe(book_name, defined, loaded)
    try:
        CHECKS[book_name](probe, np.random.default_rng(SEED))
    except Stop:
        pass
    except Exception as error:  # their object misbehaved outside a call (an odd __array__)
        probe.does_not_run = True
        what = f"the check could not go on: {describe(error)}"
        probe.findings.append(Finding("check", what, None, loaded.learner_frame(error)))
    return probe.result()


def _projected(probe: Probe, make, method: str, args_of, dout: np.ndarray):
    """sum(forward(...) * dout) of a fresh instance: the scalar whose gradient backward(dout) is."""

    def value() -> float:
        layer = make()
        out = probe.call(method, probe.method(layer, method), *args_of())
        return float(np.sum(np.asarray(out, dtype=np.float64) * dout))

    return value


def _in_place_note(probe: Probe, before: np.ndarray, after: np.ndarray, name: str, method: str):
    if not np.array_equal(before, after, equal_nan=True):
        probe.notes.append(
            f"{method} changes its argument {name} in place (as the book's Relu does); a caller "
            f"that reads {name} again sees it changed ({probe.in_place_place(method)})"
        )


def _floats(value) -> np.ndarray | None:
    """A second call's answer as numbers, or None when it is none (then not the same)."""
    try:
        return None if value is None else np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None


# ---- MulLayer, AddLayer ----------------------------------------------------------------------


def _two_inputs(probe: Probe, rng, book) -> None:
    x, y = rng.standard_normal((N, D)), rng.standard_normal((N, D))
    dout = rng.standard_normal((N, D))
    layer = probe.make()
    out = probe.array(
        "forward",
        "out",
        probe.call("forward", probe.method(layer, "forward"), x.copy(), y.copy()),
        "forward returns None: return out is missing",
    )
    reference = book()
    expected = reference.forward(x.copy(), y.copy())
    book_dx, book_dy = reference.backward(dout.copy())
    probe.compare("forward", "out", out, expected)
    given = dout.copy()
    grads = probe.call("backward", probe.method(layer, "backward"), given)
    _in_place_note(probe, dout, given, "dout", "backward")
    if not isinstance(grads, tuple | list) or len(grads) != 2:
        probe.wrong(
            "backward",
            f"backward returns {type(grads).__name__}; it should return dx, dy",
            "return dx, dy",
            method="backward",
        )
        raise Stop
    dx = probe.array("backward", "dx", grads[0])
    dy = probe.array("backward", "dy", grads[1])
    make = probe.make
    xs, ys = x.copy(), y.copy()
    num_x = probe.numeric(
        _projected(probe, make, "forward", lambda: (xs.copy(), y.copy()), dout), xs
    )
    num_y = probe.numeric(
        _projected(probe, make, "forward", lambda: (x.copy(), ys.copy()), dout), ys
    )
    swapped = "x and y swapped: each input's gradient is dout times the other input (dx = dout * y)"
    probe.gradient(
        "backward",
        "dx",
        dx,
        num_x,
        [(lambda g: close(g, dout * x) and not close(g, dout * y), swapped)],
        books=[book_dx],
    )
    probe.gradient(
        "backward",
        "dy",
        dy,
        num_y,
        [(lambda g: close(g, dout * y) and not close(g, dout * x), swapped)],
        books=[book_dy],
    )
    out_again = probe.call("forward", layer.forward, x.copy(), y.copy())
    probe.twice("out", out, _floats(out_again), "forward")
    again = probe.call("backward", layer.backward, dout.copy())
    probe.twice(
        "dx", dx, _floats(again[0] if isinstance(again, tuple | list) else None), "backward"
    )


def check_mul(probe: Probe, rng) -> None:
    _two_inputs(probe, rng, MulLayer)


def check_add(probe: Probe, rng) -> None:
    _two_inputs(probe, rng, AddLayer)


# ---- Relu, Sigmoid ---------------------------------------------------------------------------


def _one_input(
    probe: Probe,
    x: np.ndarray,
    dout: np.ndarray,
    book,
    from_out,
    forward_causes,
    backward_causes,
):
    """from_out(out, dout): the book's backward on the out their forward gave (a backward
    right for a wrong forward)."""
    layer = probe.make()
    given_x = x.copy()
    out = probe.array(
        "forward",
        "out",
        probe.call("forward", probe.method(layer, "forward"), given_x),
        "forward returns None: return out is missing",
    )
    _in_place_note(probe, x, given_x, "x", "forward")
    reference = book()
    expected = reference.forward(x.copy())
    state = _wrong_state(layer, reference)
    state_place = probe.place_of("forward", state) if state else None
    probe.compare("forward", "out", out, expected, forward_causes, place=state_place)
    given = dout.copy()
    dx = probe.array(
        "backward",
        "dx",
        probe.call("backward", probe.method(layer, "backward"), given),
        "backward returns None: return dx is missing",
    )
    _in_place_note(probe, dout, given, "dout", "backward")
    xs = x.copy()
    num = probe.numeric(_projected(probe, probe.make, "forward", lambda: (xs.copy(),), dout), xs)
    books = [reference.backward(dout.copy())]
    if out.shape == dout.shape:  # a wrong shape is its own finding
        books.append(from_out(out, dout))
    probe.gradient("backward", "dx", dx, num, backward_causes, books=books)
    out_again = probe.call("forward", layer.forward, x.copy())
    probe.twice("out", out, _floats(out_again), "forward")
    again = probe.array("backward", "dx", probe.call("backward", layer.backward, dout.copy()))
    probe.twice("dx", dx, again, "backward")


def _wrong_state(layer, reference) -> str | None:
    """The attribute their forward stored that differs from the book's layer's (a Relu's mask
    made on the wrong side): the one array of the same shape and kind as one of the book's."""
    theirs = vars(layer) if hasattr(layer, "__dict__") else {}
    for book_value in vars(reference).values():
        if not isinstance(book_value, np.ndarray):
            continue
        alike = [
            (name, value)
            for name, value in theirs.items()
            if isinstance(value, np.ndarray)
            and value.shape == book_value.shape
            and (value.dtype == bool) == (book_value.dtype == bool)
        ]
        if len(alike) == 1 and not close(alike[0][1], book_value):
            return alike[0][0]
    return None


def check_relu(probe: Probe, rng) -> None:
    # Away from 0 by more than the step of the central differences: no kink in between.
    x = rng.uniform(0.1, 2.0, (N, D)) * rng.choice([-1.0, 1.0], (N, D))
    dout = rng.standard_normal((N, D))
    positive = x > 0
    _one_input(
        probe,
        x,
        dout,
        Relu,
        lambda out, d: np.where(out == 0, 0, d),
        [
            (
                lambda o: close(o, np.where(positive, 0, x)),
                "the mask is on the wrong side: Relu zeroes x <= 0 and keeps x > 0",
            )
        ],
        [
            (
                lambda g: close(g, np.where(positive, 0, dout)),
                "the mask is on the wrong side: dout passes where x > 0 and is zeroed where x <= 0 (dout[self.mask] = 0 with mask = x <= 0)",
            )
        ],
    )


def check_sigmoid(probe: Probe, rng) -> None:
    x = rng.standard_normal((N, D)) * 2
    dout = rng.standard_normal((N, D))
    _one_input(
        probe,
        x,
        dout,
        Sigmoid,
        lambda out, d: d * (1 - out) * out,
        [],
        [
            (
                lambda g: close(g, dout * (1 - x) * x),
                "the derivative taken from x instead of out: dx = dout * (1 - self.out) * self.out",
            )
        ],
    )


# ---- Affine ----------------------------------------------------------------------------------

_STORED = {
    "dW": (
        "dw",
        "gradw",
        "wgrad",
        "dweight",
        "dweights",
        "gw",
        "deltaw",
        "gradweights",
        "weightsgrad",
    ),
    "db": ("db", "gradb", "bgrad", "dbias", "dbiases", "gb", "deltab", "gradbias", "biasgrad"),
}


def _stored(layer, quantity: str, shape_like: tuple[int, ...], before: dict):
    """What backward stored as dW (or db): by the book's name or a variant, else by shape."""
    attrs = vars(layer) if hasattr(layer, "__dict__") else {}
    for name, value in attrs.items():
        if name.lower().replace("_", "") in _STORED[quantity] and value is not None:
            return name, value
    for name, value in attrs.items():
        if (
            isinstance(value, np.ndarray)
            and value.shape == shape_like
            and before.get(name) is not value
        ):
            return name, value
    return None, None


def check_affine(probe: Probe, rng) -> None:
    W, b = rng.standard_normal((D, M)), rng.standard_normal(M)
    x, dout = rng.standard_normal((N, D)), rng.standard_normal((N, M))
    layer = probe.make(W.copy(), b.copy())
    out = probe.array(
        "forward",
        "out",
        probe.call("forward", probe.method(layer, "forward"), x.copy()),
        "forward returns None: return out is missing",
    )
    reference = Affine(W.copy(), b.copy())
    probe.compare("forward", "out", out, reference.forward(x.copy()))
    book_grads = {"dx": reference.backward(dout.copy()), "dW": reference.dW, "db": reference.db}
    before = dict(vars(layer)) if hasattr(layer, "__dict__") else {}
    given = dout.copy()
    dx = probe.call("backward", probe.method(layer, "backward"), given)
    _in_place_note(probe, dout, given, "dout", "backward")
    dx = probe.array("backward", "dx", dx, "backward returns None: return dx is missing")

    def numeric_of(which: str) -> np.ndarray:
        values = {"x": x.copy(), "W": W.copy(), "b": b.copy()}
        target = values[which]

        def value() -> float:
            fresh = probe.make(values["W"].copy(), values["b"].copy())
            out = probe.call("forward", fresh.forward, values["x"].copy())
            return float(np.sum(np.asarray(out, dtype=np.float64) * dout))

        return probe.numeric(value, target)

    probe.gradient(
        "backward",
        "dx",
        dx,
        numeric_of("x"),
        [(lambda g: close(g, np.dot(dout, W)), "W not transposed: dx = np.dot(dout, self.W.T)")],
        books=[book_grads["dx"]],
    )
    firsts: dict[str, tuple[str, np.ndarray]] = {}  # quantity -> (attribute, first value)
    for quantity, shape, causes in (
        (
            "dW",
            W.shape,
            [
                (
                    lambda g: close(g, np.dot(x.T, dout).T),
                    "dW transposed: dW = np.dot(self.x.T, dout), shaped like W",
                ),
            ],
        ),
        (
            "db",
            b.shape,
            [
                (
                    lambda g: close(g, dout),
                    "db = dout: db is dout summed over the batch, np.sum(dout, axis=0)",
                ),
                (
                    lambda g: close(g, dout.sum(axis=1)),
                    "db summed over the wrong axis: np.sum(dout, axis=0)",
                ),
                (lambda g: close(g, dout.sum()), "db summed over everything: np.sum(dout, axis=0)"),
            ],
        ),
    ):
        name, value = _stored(layer, quantity, shape, before)
        if value is None:
            cause = (
                f"{quantity} is computed but never stored: self.{quantity} = ..."
                if probe.assigns_local("backward", quantity)
                else f"backward must store self.{quantity}"
            )
            probe.wrong(
                quantity,
                f"{quantity} is never stored (no self.{quantity} after backward)",
                cause,
                method="backward",
            )
            continue
        got = probe.array("backward", quantity, value)
        firsts[quantity] = (name, got)
        numeric = numeric_of(quantity[1])
        probe.gradient("backward", quantity, got, numeric, causes, books=[book_grads[quantity]])
    # Called again on the same inputs: the same out, dx, dW and db (a += would add up).
    out_again = probe.call("forward", layer.forward, x.copy())
    probe.twice("out", out, _floats(out_again), "forward")
    dx_again = probe.call("backward", layer.backward, dout.copy())
    probe.twice("dx", dx, _floats(dx_again), "backward")
    for quantity, (name, first) in firsts.items():
        value = getattr(layer, name, None)
        second = None if value is None else np.asarray(value, dtype=np.float64)
        probe.twice(quantity, first, second, "backward")


# ---- SoftmaxWithLoss -------------------------------------------------------------------------


def _book_loss(x: np.ndarray, t: np.ndarray, epsilon: float = LOG_EPSILON) -> float:
    layer = SoftmaxWithLoss(epsilon)
    return float(layer.forward(x, t))


def _loss_of(probe: Probe, x, t, method_name="forward") -> np.ndarray:
    layer = probe.make()
    return probe.array(
        "forward",
        "loss",
        probe.call("forward", probe.method(layer, method_name), x.copy(), t.copy()),
        "forward returns None: return self.loss is missing",
    )


def check_softmax_with_loss(probe: Probe, rng) -> None:
    x = rng.standard_normal((N, M))
    t = np.eye(M)[rng.integers(0, M, N)]  # one-hot, as the chapter's SoftmaxWithLoss takes it
    layer = probe.make()
    loss = probe.array(
        "forward",
        "loss",
        probe.call("forward", probe.method(layer, "forward"), x.copy(), t.copy()),
        "forward returns None: return self.loss is missing",
    )
    y_name, y = _stored_probabilities(probe, layer, x, t)
    y_wrong = y is not None and not close(y, softmax(x))
    # A softmax fault shows in the loss but is made where forward makes y, which backward reads.
    y_place = probe.place_of("forward", y_name) if y_name else None
    whole = np.exp(x) / np.exp(x).sum()
    over_batch = float(-np.sum(t * np.log(whole + LOG_EPSILON)) / N)
    expected = _book_loss(x, t)
    if loss.ndim:
        probe.wrong(
            "loss",
            f"loss has shape {loss.shape}; it should be one number",
            "the loss is the mean over the batch: np.sum(...) / batch_size",
            method="forward",
        )
        raise Stop
    probe.compare(
        "forward",
        "loss",
        loss,
        expected,
        [
            (
                lambda v: close(v, over_batch),
                "softmax over the whole batch instead of each row: sums and maxes along axis=1 (keepdims=True)",
            ),
            (lambda v: close(v, expected * N), "the loss is not divided by the batch size"),
        ],
        place=y_place if y_wrong else None,
    )
    # Rows around 1000: exp overflows unless each row's max is taken off first.
    big = _loss_of(probe, x + 1000.0, t)
    if not close(big, expected):
        probe.wrong(
            "loss",
            f"the loss is {float(big):.6g} for inputs around 1000; it should be {expected:.6g}",
            "softmax overflows: subtract each row's max before exp",
            method="forward",
            place=y_place,
        )
    # The right class's probability exactly 0: the book's 1e-7 keeps the log finite.
    zero = x.copy()
    zero[0, t[0].argmax()] = -1000.0
    at_zero = _loss_of(probe, zero, t)
    expected_zero = _book_loss(zero, t)
    if not np.isfinite(at_zero):
        probe.wrong(
            "loss",
            f"the loss is {float(at_zero)} when a probability is exactly 0; it should be {expected_zero:.6g}",
            "1e-7 outside the log (or none): np.log(y + 1e-7)",
            method="forward",
        )
    dx = probe.call("backward", probe.method(layer, "backward"), *_dout_one(layer))
    dx = probe.array("backward", "dx", dx, "backward returns None: return dx is missing")
    xs = x.copy()
    num = probe.numeric(
        lambda: float(
            np.asarray(
                probe.call("forward", probe.make().forward, xs.copy(), t.copy()), dtype=np.float64
            )
        ),
        xs,
    )
    # Backprop's (y - t) / N is the derivative of the loss without the 1e-7 in the log: where
    # their loss has it (as the book's does), so does the numerical gradient; take it out.
    if abs(float(loss) - expected) < abs(float(loss) - _book_loss(x, t, 0.0)):
        picked = softmax(x)[np.arange(N), t.argmax(axis=1)]
        num = num * ((picked + LOG_EPSILON) / picked)[:, None]
    right = (softmax(x) - t) / N
    probe.gradient(
        "backward",
        "dx",
        dx,
        num,
        [
            (
                lambda g: close(g, right * N),
                "not divided by the batch size: dx = (self.y - self.t) / batch_size",
            ),
            (
                lambda g: close(g, softmax(x) - t),
                "not divided by the batch size: dx = (self.y - self.t) / batch_size",
            ),
            (
                lambda g: y_wrong and close(g, (y - t) / N),
                f"backward is right for the self.{y_name} that forward stores; forward makes "
                f"self.{y_name} wrong",
            ),
        ],
        place=y_place if y_wrong else None,
    )
    loss_again = probe.call("forward", layer.forward, x.copy(), t.copy())
    probe.twice("loss", loss, _floats(loss_again), "forward")
    again = probe.array("backward", "dx", probe.call("backward", layer.backward, *_dout_one(layer)))
    probe.twice("dx", dx, again, "backward")


def _stored_probabilities(probe: Probe, layer, x: np.ndarray, t: np.ndarray):
    """(name, value) of what forward stored for backward as the softmax of x: an array
    attribute that backward reads, shaped like t and not t. (None, None) when there is none."""
    read = probe.attributes_read("backward")
    for name, value in (vars(layer) if hasattr(layer, "__dict__") else {}).items():
        if (
            name.lower() in read
            and isinstance(value, np.ndarray)
            and value.shape == t.shape
            and not close(value, t)
            and not close(value, x)
        ):
            return name, np.asarray(value, dtype=np.float64)
    return None, None


def _dout_one(layer) -> tuple:
    """backward(1) as the book calls it, or backward() for a learner's that takes no dout."""
    import inspect

    try:
        parameters = inspect.signature(layer.backward).parameters
    except (TypeError, ValueError):
        return (1,)
    return (1,) if parameters else ()


def check_two_layer_net(probe: Probe, rng) -> None:
    from bp_tui.learner.net_check import check_net

    check_net(probe, rng)


CHECKS = {
    "MulLayer": check_mul,
    "AddLayer": check_add,
    "Relu": check_relu,
    "Sigmoid": check_sigmoid,
    "Affine": check_affine,
    "SoftmaxWithLoss": check_softmax_with_loss,
    "TwoLayerNet": check_two_layer_net,
}
