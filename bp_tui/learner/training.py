"""Training with the learner's layers, through the book's API: predict, loss, gradient, and the
optimizer's update of their params.

Runs their code: only for a process started for a path given on the command line (`bp-tui
train --layers`, the dashboard's engine process). Their TwoLayerNet is trained as it is when
the net has one hidden layer; otherwise bp-tui's chain is built from their layer classes
(graph.build_net), bp-tui's standing in for those they did not write. A wrong layer trains
(the loss goes wrong); one that raises is a LayerError naming the class, method and line.
"""

from __future__ import annotations

import traceback
from pathlib import Path

import numpy as np

from bp_tui.errors import BpTuiError
from bp_tui.learner.graph import STANDARD, build_net, check_chain, weights_and_bias
from bp_tui.learner.limit import CallLimit, OverTime
from bp_tui.learner.load import describe, load
from bp_tui.learner.sandbox import DEFAULT_LIMIT
from bp_tui.learner.source import Place, place_of
from bp_tui.learner.traced import Watched, learner_trace, wrong_node
from bp_tui.nn.trace import Trace, WrongNode

LAYER_NAMES = tuple(STANDARD)  # Affine, Relu, Sigmoid, SoftmaxWithLoss


class LayerError(BpTuiError):
    """The learner's code raised (or cannot make a net): one line naming the layer and line."""


class LearnerNet:
    """Their net (or the chain of their layers) behind the calls the engine's Trainer makes."""

    def __init__(
        self,
        path: Path,
        sizes: tuple[int, ...],
        activation: str,
        init_params,
        time_limit: float = DEFAULT_LIMIT,
    ) -> None:
        """time_limit: seconds each call into their code may take (loading too)."""
        self.path = Path(path)
        self.shape = tuple(sizes)
        self.activation = activation
        self.limit = CallLimit(time_limit, self._where)
        loaded = self._call("loading", lambda: load(self.path))
        self._loaded = loaded
        chosen = loaded.by_book_name()
        broken = [c for c in chosen.values() if c.cls is None]
        if broken:
            first = broken[0]
            raise LayerError(
                f"your {first.name} does not load: {first.error} ({first.error_place})"
            )
        classes = {book: c.cls for book, c in chosen.items()}
        mine = [name for name in LAYER_NAMES if name in classes]
        self.own_net = "TwoLayerNet" in classes and len(sizes) == 3
        if not self.own_net and not mine:
            raise LayerError(
                f"{self.path.name} defines none of TwoLayerNet, {', '.join(LAYER_NAMES)}"
            )
        self.classes = classes
        self.mine = ["TwoLayerNet"] if self.own_net else mine
        fresh = init_params()
        if self.own_net:
            net = self._call(
                "TwoLayerNet.__init__",
                lambda: classes["TwoLayerNet"](sizes[0], sizes[1], sizes[2]),
            )
            self._book = net
            params = getattr(net, "params", None)
            if not isinstance(params, dict):
                raise LayerError("your TwoLayerNet has no params dict (the book's self.params)")
            for key, value in fresh.items():  # the run's seed decides the weights, as for ours
                if key in params and np.shape(params[key]) == value.shape:
                    params[key][...] = value
            self.params = params
        else:
            layers, last, params = self._call(
                "__init__",
                lambda: build_net(classes, sizes, activation=activation.capitalize()),
            )
            for key, value in fresh.items():
                params[key][...] = value
            self.layers_list, self._last, self.params = layers, last, params

    # ---- the book's API, their code behind it ---------------------------------------------------

    def predict(self, x: np.ndarray) -> np.ndarray:
        if self.own_net:
            return np.asarray(self._call("predict", lambda: self._book.predict(x)))
        for layer in self.layers_list:
            x = self._call("forward", lambda layer=layer, x=x: layer.forward(x))
        return np.asarray(x)

    @property
    def layers(self) -> dict:
        """The chain's layers by name (the book's TwoLayerNet.layers when it is theirs)."""
        if self.own_net:
            return dict(getattr(self._book, "layers", {}) or {})
        named, chain = {}, self.layers_list  # the book's keys: Affine1, Relu1, Affine2, ...
        for i, layer in enumerate(chain):
            kind = "Affine" if i % 2 == 0 else self.activation.capitalize()
            named[f"{kind}{i // 2 + 1}"] = layer
        return named

    # what the dashboard's insights read of a net (nn.model.Network's names)
    @property
    def depth(self) -> int:
        return len(self.shape) - 1

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(self.params)

    def affine(self, index: int):
        """The index-th Affine (from 1), the learner's or bp-tui's, its parameters and their
        gradients under the book's names (W, b, dW, db) whatever theirs are."""
        affines = [
            layer for layer in self.layers.values() if weights_and_bias(layer)[0] is not None
        ]
        return Watched(affines[index - 1])

    def forward_steps(self, x: np.ndarray):
        for key, layer in self.layers.items():
            x = self._call("forward", lambda layer=layer, x=x: layer.forward(x))
            yield key, x

    @property
    def last_layer(self):
        if self.own_net:
            return getattr(self._book, "lastLayer", None) or getattr(self._book, "last_layer", None)
        return self._last

    def loss(self, x: np.ndarray, t: np.ndarray) -> float:
        """Their loss on labels t (given to their code one-hot)."""
        x, one_hot = self._batch(x, t)
        if self.own_net:
            return float(np.asarray(self._call("loss", lambda: self._book.loss(x, one_hot))))
        scores = self.predict(x)
        return float(np.asarray(self._call("forward", lambda: self._last.forward(scores, one_hot))))

    def gradient(self, x: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        """Their backprop's gradient of every parameter on labels t."""
        x, one_hot = self._batch(x, t)
        if self.own_net:
            grads = self._call("gradient", lambda: self._book.gradient(x, one_hot))
            if not isinstance(grads, dict):
                raise LayerError(f"your TwoLayerNet.gradient returned {type(grads).__name__}")
        else:
            scores = self.predict(x)
            self._call("forward", lambda: self._last.forward(scores, one_hot))
            dout = self._call("backward", lambda: self._last.backward(1))
            for layer in reversed(self.layers_list):
                dout = self._call("backward", lambda layer=layer, d=dout: layer.backward(d))
            # the Affines in order hold the params in order (build_net): their stored dW, db
            names = iter(self.params)
            grads = {}
            for layer in self.layers_list[::2]:
                view = Watched(layer)
                grads[next(names)], grads[next(names)] = view.dW, view.db
        missing = [k for k in self.params if grads.get(k) is None]
        if missing:
            affine = "your Affine" if self.own_net else type(self.layers_list[0]).__name__
            who = "your TwoLayerNet.gradient" if self.own_net else "your backprop"
            raise LayerError(
                f"{who} gave no gradient for {', '.join(missing)}: does {affine}.backward store "
                f"self.dW and self.db? (bp-tui check {self.path.name} checks each class)"
            )
        return grads

    def loss_and_gradient(self, x: np.ndarray, t: np.ndarray, reuse: bool = True):
        """Their loss and their backprop's gradient on this batch (the Trainer's step); a
        gradient of the wrong shape stops here, as the update could not apply it (a gradient
        check takes it as it is, and fails it)."""
        loss, grads = self.loss(x, t), self.gradient(x, t)
        for key, param in self.params.items():
            if np.shape(grads[key]) != np.shape(param):
                raise LayerError(
                    f"your backprop's gradient of {key} has shape {np.shape(grads[key])}, "
                    f"{key} has {np.shape(param)}"
                )
        return loss, grads

    def _batch(self, x: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        t = np.asarray(t)
        if t.ndim == 2:
            return np.asarray(x, dtype=np.float64), t
        one_hot = np.zeros((len(t), self.shape[-1]), dtype=np.float64)
        one_hot[np.arange(len(t)), t] = 1.0  # one-hot labels: every SoftmaxWithLoss takes them
        return np.asarray(x, dtype=np.float64), one_hot

    def flat_params(self):
        return None  # their arrays, updated one by one by the optimizer

    def flat_gradient(self, grads):
        return None

    def count_correct(self, x: np.ndarray, t: np.ndarray, part: int = 10_000) -> int:
        """Images their predict classes right (x as bytes is scaled as data.to_float does)."""
        correct = 0
        for start in range(0, len(x), part):
            rows = x[start : start + part]
            if rows.dtype == np.uint8:
                rows = np.divide(rows, 255.0, dtype=np.float32)
            scores = self.predict(np.asarray(rows, dtype=np.float64))
            correct += int(np.sum(np.argmax(scores, axis=1) == t[start : start + part]))
        return correct

    def first_wrong_node(self, x: np.ndarray, t: np.ndarray) -> str:
        """Where their backward pass first departs from central differences of each node's own
        forward (graph.check_chain, node by node), in words; "" when no node does."""
        found = self._first_wrong(x, t)
        if found is None:
            return ""
        keys = [*self.layers, "the loss"]  # Affine1, Relu1, ..., then the loss node
        text = f"first wrong node: {keys[found.node]} ({found.name}), its {found.quantity}"
        if found.misshapen:
            return f"{text} {found.misshapen}"
        if found.got is None or found.index is None:
            return f"{text} is missing or of the wrong shape"
        return (
            f"{text}[{', '.join(map(str, found.index))}] is {found.got:.4g}, "
            f"should be {found.expected:.4g}"
        )

    def trace(self, x: np.ndarray, t: np.ndarray) -> Trace:
        """The Inspector's record of their forward and backward on this batch, each step with
        the source of their method and the lines behind it (nothing of theirs in it)."""
        x, one_hot = self._batch(x, t)
        return self._call("forward", lambda: learner_trace(self, x, one_hot, self._loaded.files))

    def wrong_node(self, trace: Trace, x: np.ndarray, t: np.ndarray) -> WrongNode | None:
        """The trace's first wrong node (graph.check_chain) and what its gradient should be;
        20 elements of each array: their forward of the first layer on the Inspector's 100
        images is called twice an element (~0.3 s for all on an idle core, 3 s under load)."""
        return wrong_node(trace, self._first_wrong(x, t, max_elements=20), self.layers)

    def _first_wrong(self, x: np.ndarray, t: np.ndarray, max_elements: int = 200):
        x, one_hot = self._batch(x, t)
        chain = list(self.layers.values())
        if not chain or self.last_layer is None:
            return None
        return self._call(
            "backward",
            lambda: (
                check_chain(
                    chain, self.last_layer, x, one_hot, max_elements=max_elements
                ).first_wrong
            ),
        )

    def __deepcopy__(self, memo) -> LearnerNet:
        """A snapshot of the weights and of their layers (for an evaluation beside training);
        the loaded modules are shared."""
        import copy

        twin = object.__new__(LearnerNet)
        twin.__dict__.update(self.__dict__)
        if self.own_net:
            twin._book = copy.deepcopy(self._book, memo)
            twin.params = twin._book.params
        else:
            twin.layers_list, twin._last, twin.params = copy.deepcopy(
                (self.layers_list, self._last, self.params), memo
            )
        return twin

    # ---- their exceptions, one line -------------------------------------------------------------

    def _call(self, what: str, action):
        try:
            with self.limit.call(what):
                return action()
        except OverTime:
            raise LayerError(self.limit.overrun()) from None
        except (BpTuiError, MemoryError):
            raise
        except Exception as error:  # noqa: BLE001 - their code: any exception is theirs to fix
            raise LayerError(self._blame(what, error)) from None

    def _where(self, frame) -> str | None:
        """ "your Relu.forward at layers.py line 30: while True:": the innermost line of their
        code in a stack (of a call running past its limit)."""
        files = self._loaded.files if hasattr(self, "_loaded") else {}
        while frame is not None:
            place = place_of(frame.f_code.co_filename, frame.f_lineno, files)
            if place is not None:
                me = frame.f_locals.get("self")
                name = frame.f_code.co_name
                owner = f"{type(me).__name__}.{name}" if me is not None else name
                return f"your {owner} at {place}" + (f": {place.text}" if place.text else "")
            frame = frame.f_back
        return None

    def _blame(self, what: str, error: BaseException) -> str:
        """ "Affine.backward raised NameError: ... at layers.py line 23: dx = ..."."""
        where: Place | None = None
        owner = None
        tb = error.__traceback__
        for frame, line in traceback.walk_tb(tb):
            place = self._loaded.place(frame.f_code.co_filename, line)
            if place is not None:
                where = place
                me = frame.f_locals.get("self")
                owner = (
                    f"{type(me).__name__}.{frame.f_code.co_name}" if me else frame.f_code.co_name
                )
        name = owner or what
        at = f" at {where}: {where.text}" if where is not None else ""
        return f"your {name} raised {describe(error)}{at}"
