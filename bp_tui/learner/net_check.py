"""The check of a learner's TwoLayerNet: predict and loss against the book's formulas, and its
gradient against its own numerical_gradient (the book's gradient_check.py), against central
differences of its own loss, and against central differences of its predict through the loss
without the 1e-7 (the loss backprop differentiates)."""

from __future__ import annotations

import ast

import numpy as np

from bp_tui.learner.probe import GRADIENT_TOLERANCE, Probe, Stop, close
from bp_tui.nn.functions import LOG_EPSILON, cross_entropy_error, sigmoid, softmax
from bp_tui.nn.net import PARAM_NAMES
from bp_tui.nn.numerical import central_differences

PARAMS = PARAM_NAMES  # the book's TwoLayerNet's keys, as bp_tui.nn names them
FIRST_WEIGHTS, FIRST_BIASES, SECOND_WEIGHTS, SECOND_BIASES = PARAMS
SIZES = (6, 4, 3)  # input, hidden, output
N = 5


def check_net(probe: Probe, rng) -> None:
    named = _wrong_classes_named(probe)  # before it is made: __init__ may raise in them
    probe.fallback_cause = f"it uses your {', '.join(named)}, found wrong" if named else None
    probe.blame = _fault_of(probe, named)
    net = probe.make(*SIZES)
    wrong_layers = _wrong_layers(probe, net)
    cause = f"it uses your {', '.join(wrong_layers)}, found wrong" if wrong_layers else None
    probe.fallback_cause = cause
    probe.blame = _fault_of(probe, wrong_layers)
    params = getattr(net, "params", None)
    if not isinstance(params, dict) or any(k not in params for k in PARAMS):
        probe.fail(
            "params",
            f"no params dict with {', '.join(PARAMS[:-1])} and {PARAMS[-1]}",
            "the book's self.params = {} in __init__",
            probe.place_of("__init__", "params"),
        )
    # Weights of order 1 instead of 0.01: gradients far above the rounding of the differences.
    # Written into their arrays, which their layers hold too.
    for key in PARAMS:
        value = params[key]
        if not isinstance(value, np.ndarray):
            probe.fail("params", f"params['{key}'] is {type(value).__name__}, not an array")
        value[...] = rng.uniform(-1, 1, value.shape)
    x = rng.standard_normal((N, SIZES[0]))
    t = np.eye(SIZES[2])[rng.integers(0, SIZES[2], N)]
    p = {k: params[k].astype(np.float64) for k in PARAMS}
    hidden = x @ p[FIRST_WEIGHTS] + p[FIRST_BIASES]
    scores = {
        "relu": np.maximum(hidden, 0) @ p[SECOND_WEIGHTS] + p[SECOND_BIASES],
        "sigmoid": sigmoid(hidden) @ p[SECOND_WEIGHTS] + p[SECOND_BIASES],
    }
    predict = probe.array(
        "predict",
        "scores",
        probe.call("predict", probe.method(net, "predict"), x.copy()),
        "predict returns None: return x is missing",
    )
    activation = "sigmoid" if close(predict, scores["sigmoid"]) else "relu"
    expected = scores[activation]
    extra_relu = close(predict, np.maximum(expected, 0))
    causes = [(lambda _: True, cause)] if cause else []  # their wrong layers explain it
    probe.compare(
        "predict",
        "scores",
        predict,
        expected,
        [
            (
                lambda s: extra_relu,
                "an extra ReLU on the scores: the last Affine's output goes to SoftmaxWithLoss as it is",
            ),
            (
                lambda s: close(s, softmax(expected)),
                "predict applies softmax: the scores go to SoftmaxWithLoss as they are",
            ),
            *causes,
        ],
        place=_last_layer_place(probe, net) if extra_relu else None,
    )
    if activation == "sigmoid":
        probe.notes.append("a Sigmoid hidden layer (the book's uses Relu)")
    loss = probe.array(
        "loss",
        "loss",
        probe.call("loss", probe.method(net, "loss"), x.copy(), t.copy()),
        "loss returns None: return self.lastLayer.forward(y, t)",
    )
    grads = probe.call("gradient", probe.method(net, "gradient"), x.copy(), t.copy())
    # Their loss carries the book's 1e-7 inside the log, which backprop's (y - t) / N leaves
    # out: up to 1e-7 / y of the right class's probability y, allowed for against their loss.
    picked = softmax(predict)[np.arange(N), t.argmax(axis=1)]
    with_log_epsilon = GRADIENT_TOLERANCE + 2 * LOG_EPSILON / max(float(picked.min()), 1e-300)
    probe.compare(
        "loss",
        "loss",
        loss,
        cross_entropy_error(softmax(predict), t),
        causes,
        max(with_log_epsilon, 1e-6),
    )
    if not isinstance(grads, dict) or any(grads.get(k) is None for k in PARAMS):
        if isinstance(grads, dict):
            what = f"gradient gives None for {', '.join(k for k in PARAMS if grads.get(k) is None)}"
        else:
            what = (
                f"gradient returns {type(grads).__name__}; it should be a dict of "
                f"{', '.join(PARAMS)}"
            )
        probe.wrong("gradient", what, cause, method="gradient")
        raise Stop
    grads = {k: probe.array("gradient", k, grads[k]) for k in PARAMS}
    theirs = None
    if callable(getattr(type(net), "numerical_gradient", None)):
        theirs = probe.call("numerical_gradient", net.numerical_gradient, x.copy(), t.copy())
    else:
        probe.notes.append("no numerical_gradient method: checked against central differences only")

    def own_loss() -> float:
        return float(np.asarray(probe.call("loss", net.loss, x, t), dtype=np.float64))

    def exact_loss() -> float:
        scores = np.asarray(probe.call("predict", net.predict, x), dtype=np.float64)
        return float(cross_entropy_error(softmax(scores), t, 0.0))

    for key in PARAMS:
        grad = f"grads['{key}']"  # their gradient's, not the weight's: it is what is wrong
        numeric = probe.call("gradient", central_differences, lambda _: exact_loss(), params[key])
        against = "central differences of predict and the loss"
        if not probe.compare(
            "gradient", grad, grads[key], numeric, causes, GRADIENT_TOLERANCE, against
        ):
            continue  # one finding a parameter: the other references would say the same
        numeric = probe.call("loss", central_differences, lambda _: own_loss(), params[key])
        against = "central differences of your loss"
        if not probe.compare(
            "gradient", grad, grads[key], numeric, causes, with_log_epsilon, against
        ):
            continue
        if isinstance(theirs, dict) and theirs.get(key) is not None:
            got = probe.array("numerical_gradient", key, theirs[key])
            against = "your numerical_gradient, as gradient_check.py compares"
            probe.compare("gradient", grad, grads[key], got, causes, with_log_epsilon, against)
    again = probe.call("gradient", net.gradient, x.copy(), t.copy())
    if isinstance(again, dict):
        for key in PARAMS:
            second = again.get(key)
            probe.twice(
                key,
                grads[key],
                None if second is None else np.asarray(second, dtype=np.float64),
                "gradient",
                cause,
            )
    gradients = {f"grads['{key}']" for key in PARAMS}
    if any(f.quantity in PARAMS or f.quantity in gradients for f in probe.findings):
        _first_wrong_node(probe, net, x, t)


def _first_wrong_node(probe: Probe, net, x, t) -> None:
    """Where a wrong gradient starts: the net's layers checked node by node (a note)."""
    from bp_tui.learner.graph import first_wrong_node

    layers = getattr(net, "layers", None)
    last = getattr(net, "lastLayer", None)
    if not isinstance(layers, dict) or last is None:
        return
    found = probe.call(
        "gradient", first_wrong_node, list(layers.values()), last, x.copy(), t.copy()
    )
    if found is not None:
        label = "lastLayer" if found.node == len(layers) else list(layers)[found.node]
        probe.notes.append(
            f"the first wrong node of the backward pass is {label} ({found.name}): its "
            f"{found.quantity} departs from central differences of its forward"
        )


def _last_layer_place(probe: Probe, net):
    """The line of __init__ that adds the net's last layer (self.layers['Relu2'] = Relu())."""
    layers = getattr(net, "layers", None)
    key = list(layers)[-1] if isinstance(layers, dict) and layers else None
    init = probe.method_node("__init__")
    for node in ast.walk(init) if init is not None and key is not None else ():
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Subscript)
            and isinstance(t.slice, ast.Constant)
            and t.slice.value == key
            for t in node.targets
        ):
            return probe.line(node.lineno)
    return None


def _fault_of(probe: Probe, wrong_classes: list[str]):
    """The line of the first of their wrong classes that the check of that class named."""
    faults = probe.loaded.faults
    return next((faults[n] for n in wrong_classes if n in faults), None)


def _wrong_classes_named(probe: Probe) -> list[str]:
    """The learner's classes found wrong that the net's own code names."""
    node = probe.class_node
    verdicts = probe.loaded.verdicts
    names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} if node is not None else set()
    return sorted(n for n in names if verdicts.get(n) not in (None, "passed"))


def _wrong_layers(probe: Probe, net) -> list[str]:
    """The learner's own layer classes this net uses that their checks found wrong."""
    verdicts = getattr(probe.loaded, "verdicts", {})
    layers = (
        list(getattr(net, "layers", {}).values())
        if isinstance(getattr(net, "layers", None), dict)
        else []
    )
    layers.append(getattr(net, "lastLayer", None))
    names = []
    for layer in layers:
        name = type(layer).__name__
        if verdicts.get(name) not in (None, "passed") and name not in names:
            names.append(name)
    return names
