"""The computational graph inspector tab: forward node by node, then backward node by node.

Graphs 1 and 2 are the book's apple examples (inputs editable with e); graph 3 is the network on
a real mini-batch with the engine's current parameters (asked for with the Inspect command, which
answers with an Inspection event); f follows the live run, asking again as training steps in
slow motion. The widget takes focus when its tab is shown, so its keys (n, e, arrows...) win over
the app's while it is on screen; a click on a graph's name, a step's number or a node's box goes
there (their styles carry where they lead).
"""

from __future__ import annotations

from collections.abc import Callable
from time import monotonic

import numpy as np
from rich.console import Group, RenderableType
from rich.style import Style
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Horizontal, VerticalScroll
from textual.message import Message
from textual.reactive import var

from bp_tui.engine import events as ev
from bp_tui.engine.events import RunState
from bp_tui.errors import BpTuiError
from bp_tui.nn.functions import LOG_EPSILON
from bp_tui.nn.trace import Trace, apple_orange_trace, apple_trace, network_trace
from bp_tui.ui.bindings import keys_for
from bp_tui.ui.colours import theme_color
from bp_tui.ui.inspector.graph_view import draw
from bp_tui.ui.inspector.inspector_detail import edges_table, network_summary, node_detail
from bp_tui.ui.inspector.inspector_unit import Colours, first_weights, shown_unit, unit_picture
from bp_tui.ui.messages import InspectionWanted
from bp_tui.ui.screens.inspector_edit import InputEditForm
from bp_tui.ui.widgets.closing import unless_closing
from bp_tui.ui.widgets.drawn import Drawn

GRAPH_NAMES = {1: "Apple", 2: "Apple and orange", 3: "Network"}
BUILDERS = {1: apple_trace, 2: apple_orange_trace}
DEFAULT_INPUTS = {
    1: {"apple": 100.0, "apple_num": 2.0, "tax": 1.1},
    2: {"apple": 100.0, "apple_num": 2.0, "orange": 150.0, "orange_num": 3.0, "tax": 1.1},
}
PALETTE = (
    "value",
    "grad",
    "unknown",
    "fresh",
    "current",
    "box",
    "op",
    "line",
    "name",
    "muted",
    "ok",
    "bad",
    "code-keyword",
    "code-function",
    "code-number",
    "code-string",
    "code-comment",
    "code-line",
)
# Used alone, never combined with another colour (code-line: only its background is taken).
FADED = ("unknown", "line", "muted", "code-comment", "code-line")
LEGENDS = {
    "scalar": "above an arrow: the value going forward · below: the gradient coming back · "
    "?: not computed yet",
    "network": "above an arrow: shape, mean μ · below: ‖d‖ (the gradient's norm) · "
    "W, b, t: value left, gradient right · ?: not yet",
}
NARROW = 110  # below this width the two detail panes stack
# Below this height (the inspector's own) the code pane shows only the lines computing the step.
SHORT = 28
# Following the live run: at most this many fresh batches a second. Each costs the engine a
# gradient check of ~0.15 s between two slow-motion steps; at 1 it/s that is every iteration,
# at 5 or 50 it/s it is every few. At full speed the inspector does not follow at all.
FOLLOW_PER_SECOND = 2.0
ENDS = Binding.Group("First / last step")  # home and end: one row of the help


def images_text(inspection: ev.Inspection, shown: int = 3) -> str:
    """Which training images the batch holds: "images 6, 20, 135, … (100 random)"."""
    if inspection.source:
        return inspection.source
    if inspection.indices is None:
        return f"batch of {len(inspection.x)}"
    ids = [f"{int(i):,}" for i in inspection.indices[:shown]]
    more = ", …" if len(inspection.indices) > shown else ""
    return f"images {', '.join(ids)}{more} ({len(inspection.indices)} random)"


class Inspector(VerticalScroll, can_focus=True):
    DEFAULT_CSS = """
    Inspector {
        height: 1fr;
        padding: 0 1;
        scrollbar-size-vertical: 1;
    }
    Inspector > .inspector--value { color: $text-primary; }
    Inspector > .inspector--grad { color: $text-error; }
    Inspector > .inspector--unknown { color: $text-muted; }
    Inspector > .inspector--fresh { text-style: bold reverse; }
    Inspector > .inspector--current { color: $text-accent; text-style: bold; }
    Inspector > .inspector--box { color: $foreground; }
    Inspector > .inspector--op { text-style: bold; }
    Inspector > .inspector--line { color: $foreground 60%; }
    Inspector > .inspector--name { text-style: bold; }
    Inspector > .inspector--muted { color: $text-muted; }
    Inspector > .inspector--ok { color: $text-success; }
    Inspector > .inspector--bad { color: $text-error; text-style: bold; }
    Inspector > .inspector--code-keyword { color: $text-secondary; text-style: bold; }
    Inspector > .inspector--code-function { color: $text-primary; text-style: bold; }
    Inspector > .inspector--code-number { color: $text-warning; }
    Inspector > .inspector--code-string { color: $text-success; }
    Inspector > .inspector--code-comment { color: $text-muted; text-style: italic; }
    Inspector > .inspector--code-line { background: $accent 25%; }
    #insp-head {
        height: auto;
    }
    #insp-graph {
        height: auto;
        border: round $primary 50%;
        border-title-color: $text-primary;
        border-title-style: bold;
        border-subtitle-color: $text-muted;
        padding: 0 1;
        overflow: hidden hidden;
    }
    #insp-graph-view {
        width: auto;
        height: auto;
        text-wrap: nowrap;
        text-overflow: clip;
    }
    #insp-legend {
        height: auto;
        color: $text-muted;
        padding: 0 1;
    }
    #insp-details {
        height: auto;
    }
    #insp-node, #insp-side {
        width: 1fr;
        height: auto;
        border: round $primary 50%;
        border-title-color: $text-primary;
        border-title-style: bold;
        padding: 0 1;
    }
    Inspector.-network #insp-node {
        width: 5fr;
    }
    Inspector.-network #insp-side {
        width: 4fr;
    }
    Inspector.-stacked #insp-details {
        layout: vertical;
    }
    Inspector.-stacked #insp-node, Inspector.-stacked #insp-side {
        width: 100%;
    }
    /* A short screen (80x24) keeps the legend's two lines for the step's details; v shows
       the details alone, the steps bar above still naming the node. */
    Inspector.-short #insp-legend, Inspector.-details-only #insp-legend {
        display: none;
    }
    Inspector.-details-only #insp-graph {
        display: none;
    }
    """
    COMPONENT_CLASSES = {f"inspector--{name}" for name in PALETTE}
    BINDINGS = [
        Binding("right,n", "step(1)", "Next step", key_display="→/n"),
        Binding("left,p", "step(-1)", "Prev step", key_display="←/p"),
        Binding("home", "jump(0)", "First step", show=False, group=ENDS),
        Binding("end", "jump(-1)", "Last step", show=False, group=ENDS),
        Binding("1", "graph(1)", "Graph 1/2/3", key_display="1-3"),
        Binding("2", "graph(2)", "Graph 2", show=False, key_display="1-3"),
        Binding("3", "graph(3)", "Graph 3 (fresh batch)", show=False, key_display="1-3"),
        Binding("e", "edit_inputs", "Edit input"),
        Binding("right_square_bracket", "unit(1)", "Hidden unit", key_display="[ ]"),
        Binding(
            "left_square_bracket", "unit(-1)", "Previous hidden unit", show=False, key_display="[ ]"
        ),
        Binding("f", "toggle_follow", "Follow live"),
        Binding("v", "toggle_details_only", "Details alone / with graph"),
    ]
    # The run as the app last heard it (bound to the app's reactives): following needs them.
    progress: var[ev.Progress | None] = var(None, always_update=True)
    run_state: var[RunState] = var(RunState.STARTING)

    class LiveInspectionWanted(Message):
        """Following the live run in slow motion: the current weights on a fresh batch, and
        training goes on (InspectionWanted pauses it)."""

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.graph = 1
        self.inputs = {g: dict(v) for g, v in DEFAULT_INPUTS.items()}
        self.traces: dict[int, Trace | None] = {g: BUILDERS[g](**self.inputs[g]) for g in (1, 2)}
        self.traces[3] = None
        self.positions = {1: -1, 2: -1, 3: -1}  # -1: step 0, nothing computed yet
        self.inspection: ev.Inspection | None = None
        self.waiting = False
        self.problem = ""
        self.focus_columns: tuple[int, int] | None = None
        self.unit: int | None = None  # the hidden unit drawn; None: the one the batch moves most
        self.follow = False  # follow live: refresh graph 3 as training steps (f)
        # The run's slow motion in iterations a second (None: full speed), as the app has it.
        self.speed: float | None = None
        self.shown = False  # the inspector's tab is the one on screen
        self.follow_asked = False  # a refresh asked for and not fully answered yet
        self.followed_at = -1e9  # monotonic time of the last refresh asked for
        self.version = 0  # bumped by every change the parts must redraw for
        self.drawing = False  # graph 3 shows (or waits for) the Draw tab's digit: kept on view
        self.details_only = False  # v: the graph hidden, the step's details take its room

    # ---- layout ---------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield self._part(self._head, id="insp-head")
        with Container(id="insp-graph"):
            yield self._part(self._graph, picture=True, id="insp-graph-view")
        yield self._part(self._legend, id="insp-legend")
        with Horizontal(id="insp-details"):
            yield self._part(self._node, id="insp-node")
            yield self._part(self._side, id="insp-side")

    def _part(self, build: Callable[[dict], RenderableType], picture: bool = False, **kw) -> Drawn:
        """A pane drawn from this inspector's state with its palette."""
        return Drawn(
            lambda _: build(self.palette()), version=lambda: self.version, picture=picture, **kw
        )

    @unless_closing
    def on_mount(self) -> None:
        self.redraw()

    @unless_closing
    def on_resize(self) -> None:
        self._stack()
        self.redraw()  # the graph's layout depends on the width

    def _stack(self) -> None:
        """The detail panes side by side when they fit, one above the other when not."""
        self.set_class(self.size.width < NARROW, "-stacked")
        self.set_class(self.graph == 3, "-network")
        self.set_class(0 < self.size.height < SHORT, "-short")
        self.set_class(self.details_only, "-details-only")

    def palette(self) -> dict[str, Style]:
        # Faded colours (alpha) only come out right blended with the background: full styles.
        styles = {
            n: self.get_component_rich_style(f"inspector--{n}", partial=n not in FADED)
            for n in PALETTE
        }
        return {**styles, "bold": Style(bold=True), "italic": Style(italic=True)}

    # ---- state ----------------------------------------------------------------------------------

    @property
    def trace(self) -> Trace | None:
        return self.traces[self.graph]

    @property
    def k(self) -> int:
        return self.positions[self.graph]

    def redraw(self) -> None:
        self.version += 1
        trace = self.trace
        graph = self.query_one("#insp-graph")
        graph.border_title = trace.title if trace else GRAPH_NAMES[3]
        graph.border_subtitle = self._graph_subtitle()
        node, side = self.query_one("#insp-node"), self.query_one("#insp-side")
        node.display = side.display = trace is not None
        if trace is not None:
            n = len(trace.steps)
            if self.k < 0:
                node.border_title = f"step 0 of {n} · nothing computed yet"
            else:
                node.border_title = f"step {self.k + 1} of {n} · {trace.steps[self.k].phase}"
            side.border_title = "every edge so far" if self.graph < 3 else "gradients of this batch"
            # Where the screen is short the pane's top is all there is to see of it: the key there.
            key = keys_for("toggle_details_only", bindings=self.BINDINGS)
            if self.details_only:
                node.border_title += f" · {key}: the graph again"
            elif 0 < self.size.height < SHORT:
                node.border_title += f" · {key}: these details alone"
        self._stack()
        for part in self.query(Drawn):
            part.refresh(layout=True)

    def graph_width(self) -> int:
        """Columns inside the graph's box: the inspector's less its padding, scrollbar, the
        box's border and padding."""
        return max(20, self.size.width - 7)

    def _graph_subtitle(self) -> str:
        if self.graph < 3:
            return f"{keys_for('edit_inputs', bindings=self.BINDINGS)}: edit the inputs"
        if self.inspection is None:
            return ""
        i = self.inspection
        return f"iteration {i.iteration:,} · {images_text(i)} · 3: fresh batch"

    # ---- drawing --------------------------------------------------------------------------------

    def _head(self, palette: dict) -> RenderableType:
        """The graphs, then the steps; each may be clicked (its style carries where it leads)."""
        line = Text()
        for g, name in GRAPH_NAMES.items():
            style = palette["current"] + Style(reverse=True) if g == self.graph else Style()
            line.append(f" {g} {name} ", style + Style(meta={"graph": g}))
            line.append("  ")
        line.append_text(self._follow_text(palette))
        trace = self.trace
        if trace is None:
            return line
        strip = Text("\n")
        n_fwd = trace.n_forward
        at_0 = palette["current"] + Style(reverse=True) if self.k < 0 else Style()
        strip.append(" 0 ", at_0 + Style(meta={"step": -1}))
        for phase, steps in (
            ("forward ", range(n_fwd)),
            ("  backward ", range(n_fwd, len(trace.steps))),
        ):
            strip.append(phase, palette["muted"])
            for i in steps:
                if i == self.k:
                    style = palette["current"] + Style(reverse=True)
                else:
                    style = Style() if i < self.k else palette["muted"]
                strip.append(f" {i + 1} ", style + Style(meta={"step": i}))
        if self.k < 0:
            strip.append("   nothing computed yet", palette["current"])
            return line + strip
        step = trace.steps[self.k]
        arrow = "→" if step.phase == "forward" else "←"
        strip.append(f"   {arrow} {step.node}", palette["current"])
        return line + strip

    def _follow_text(self, palette: dict) -> Text:
        """Whether graph 3 follows the live run, and when it cannot."""
        key = keys_for("toggle_follow", bindings=self.BINDINGS)
        if not self.follow:
            return Text(f"{key}: follow live", palette["muted"])
        text = Text("following live", palette["current"] + Style(bold=True))
        if self.speed is None:
            text.append(" · in slow motion only (<)", palette["muted"])
        elif self.speed > FOLLOW_PER_SECOND:
            # The run's speed is the header's; this is how often graph 3 catches up with it.
            text.append(
                f" · the run at {self.speed:g} it/s, shown {FOLLOW_PER_SECOND:g} times a second",
                palette["muted"],
            )
        else:
            text.append(" · every iteration", palette["muted"])
        return text

    def _graph(self, palette: dict) -> RenderableType:
        if self.trace is not None:
            picture, self.focus_columns = draw(
                self.trace, self.k, palette, self.graph_width(), self._wrong_node()
            )
            return picture
        if self.problem:
            return Text(self.problem, palette["bad"])
        if self.waiting:
            return Text(
                "Sending your drawing through the network's current parameters…"
                if self.drawing
                else "Asking the engine for a mini-batch and the network's current parameters…",
                palette["muted"],
            )
        return Text("Press 3 to inspect the live network on a real mini-batch.", palette["muted"])

    def _legend(self, palette: dict) -> RenderableType:
        if self.trace is None:
            return Text("")
        legend = Text(LEGENDS["scalar" if self.graph < 3 else "network"])
        wrong = self.inspection.wrong if self.graph == 3 and self.inspection else None
        if wrong is not None:
            legend.append(f"\n✖ {wrong.node} (red) is the first node whose gradient ", "")
            legend.append("departs from the numerical one: step to its backward pass")
            legend.stylize(palette["bad"], legend.plain.index("✖"))
        return legend

    def _wrong_node(self) -> str | None:
        wrong = self.inspection.wrong if self.graph == 3 and self.inspection else None
        return None if wrong is None else wrong.node

    def _node(self, palette: dict) -> RenderableType:
        if self.trace is None:
            return Text("")
        wrong = self.inspection.wrong if self.graph == 3 and self.inspection else None
        return node_detail(
            self.trace, self.k, palette, short_code=self.size.height < SHORT, wrong=wrong
        )

    def _side(self, palette: dict) -> RenderableType:
        if self.trace is None:
            return Text("")
        if self.graph < 3:
            return edges_table(self.trace, self.k, palette)
        i = self.inspection
        report = i.report if i else None
        summary = network_summary(self.trace, self.k, report, palette, images_text(i) if i else "")
        keys = keys_for("unit(1)", bindings=self.BINDINGS)
        picture = unit_picture(self.trace, self.k, self.unit, self._colours(), palette, keys)
        return summary if picture is None else Group(picture, Text(""), summary)

    def _colours(self) -> Colours:
        """The gradient picture's colours: the Learned tab's (red below 0, blue above)."""
        return Colours(
            theme_color(self, "error"), theme_color(self, "surface"), theme_color(self, "primary")
        )

    # ---- the live network ---------------------------------------------------------------------

    def tab_changed(self, active: bool) -> None:
        """Called by the app when a tab is shown: focus here on ours, let go on the others."""
        self.shown = active
        if active:
            self.focus()
            if self.graph == 3 and not self.drawing:
                self.request_network()
        elif self.has_focus:
            self.screen.set_focus(None)

    def expect_drawing(self) -> None:
        """The Draw tab's digit is on its way as graph 3's batch: wait for it, from step 0, with
        the unit it moves most; seeing the tab again keeps it (3 asks for a fresh batch)."""
        self.graph, self.drawing, self.follow, self.unit = 3, True, False, None
        self.waiting, self.problem = True, ""
        self.redraw()

    def request_network(self) -> None:
        """Ask for the engine's parameters and a fresh batch; an Inspection event answers, and
        a second one with the gradient check of that batch. Training pauses for it, unless the
        inspector follows the run in slow motion."""
        self.drawing = False
        if self.follow and self.speed is not None:
            self._ask_live()
        else:
            self.post_message(InspectionWanted())
        self.waiting = True
        self.redraw()

    def show_inspection(self, inspection: ev.Inspection) -> None:
        """Trace the network on the engine's batch, from step 0 (following live: at the same
        step); the check of the same batch fills in when it comes (the graph stays where it is)."""
        if inspection.report is not None:
            self.follow_asked = False
            if self._same_batch(inspection):
                self.inspection = inspection
                self.redraw()
                self._follow_run()  # the run may have moved on meanwhile
                return
        old = self.traces[3]
        self.inspection, self.waiting, self.problem = inspection, False, inspection.problem
        try:
            # A learner's layers are traced where their code runs; ours here, from the params.
            self.traces[3] = inspection.trace or network_trace(
                inspection.params,
                inspection.x,
                inspection.t,
                inspection.activation,
                epsilon=LOG_EPSILON,  # the dashboard trains on the book's loss
            )
        except BpTuiError as error:
            self.traces[3], self.problem = None, str(error)
        if inspection.problem:
            self.traces[3] = None
        new = self.traces[3]
        same_graph = (
            old is not None
            and new is not None
            and [n.name for n in old.nodes] == [n.name for n in new.nodes]
        )
        if not (self.follow and same_graph):
            self.positions[3] = -1
        if self.follow and new is not None and self.positions[3] < 0:
            # Following from step 0 would show "nothing computed" batch after batch: the
            # whole step training took, forward and back to the first layer, is what to follow.
            self.positions[3] = len(new.steps) - 1
        self.redraw()

    def _same_batch(self, inspection: ev.Inspection) -> bool:
        shown = self.inspection
        return (
            shown is not None
            and self.traces[3] is not None
            and shown.iteration == inspection.iteration
            and np.array_equal(shown.indices, inspection.indices)
            and np.array_equal(shown.x, inspection.x)
        )

    # ---- keys -----------------------------------------------------------------------------------

    def step_to(self, k: int) -> None:
        """k from -1 (step 0: nothing computed) to the last step."""
        if self.trace is None:
            return
        self.positions[self.graph] = max(-1, min(len(self.trace.steps) - 1, k))
        self.redraw()

    def action_step(self, delta: int) -> None:
        self.step_to(self.k + delta)

    def action_jump(self, where: int) -> None:
        """0: step 0, before anything is computed; -1: the last step."""
        if self.trace is not None:
            self.step_to(-1 if where == 0 else len(self.trace.steps) - 1)

    def action_graph(self, graph: int) -> None:
        self.graph = graph
        if graph == 3:
            self.request_network()
        else:
            self.redraw()

    def action_edit_inputs(self) -> None:
        if self.graph == 3:
            self.notify(
                "graph 3's inputs come from the live network: train, then press 3 for a fresh batch",
                timeout=4,
            )
            return

        graph = self.graph

        def apply(values: dict | None) -> None:
            if values:
                self.inputs[graph] = values
                self.traces[graph] = BUILDERS[graph](**values)
                self.redraw()

        self.app.push_screen(InputEditForm(f"Inputs of graph {graph}", self.inputs[graph]), apply)

    def action_unit(self, delta: int) -> None:
        """The next or previous hidden unit in the picture of the first layer's dW (from the one drawn)."""
        trace = self.traces[3] if self.graph == 3 else None
        shown = shown_unit(trace, self.unit) if trace is not None else None
        if shown is None:
            self.notify("[ ]: the hidden units of graph 3 (3), drawn at its last step")
            return
        self.unit = shown_unit(trace, shown + delta)
        self.redraw()
        if self.k != len(trace.steps) - 1:  # the picture is at the last step: say where it is
            weights = first_weights(trace)  # the trace names its parameters
            self.notify(
                f"unit {self.unit}: the picture of d {weights} is at the last step (End)", timeout=3
            )

    # ---- the mouse ------------------------------------------------------------------------------

    def on_click(self, event: events.Click) -> None:
        """A graph's name, a step's number or a node's box: what its style says it leads to."""
        meta = event.style.meta
        if "graph" in meta:
            self.action_graph(meta["graph"])
        elif "step" in meta:
            self.step_to(meta["step"])
        elif "node" in meta:
            self.step_to(self._step_of(meta["node"]))

    def _step_of(self, node: str) -> int:
        """A clicked node's step in the phase on screen (forward at step 0); its other step when
        it is the current node already."""
        trace = self.trace
        forward, backward = (
            next(s.index for s in trace.steps if s.node == node and s.phase == phase)
            for phase in ("forward", "backward")
        )
        if self.k in (forward, backward):
            return backward if self.k == forward else forward
        return backward if self.k >= trace.n_forward else forward

    # ---- following the live run -----------------------------------------------------------------

    def action_toggle_details_only(self) -> None:
        """The step's details alone (a short screen shows little of them under the graph)."""
        self.details_only = not self.details_only
        self.redraw()
        self.scroll_home(animate=False)

    def action_toggle_follow(self) -> None:
        """Follow live: graph 3 shows the current weights on a fresh batch as training steps in
        slow motion, at the step on screen. Turning it on goes to graph 3."""
        self.follow = not self.follow
        if self.follow and self.graph != 3:
            self.action_graph(3)
            return
        self.redraw()
        self._follow_run()

    def watch_progress(self) -> None:
        self._follow_run()

    def watch_run_state(self) -> None:
        self._follow_run()

    def set_speed(self, speed: float | None) -> None:
        """The run's slow motion changed (None: full speed)."""
        self.speed = speed
        self.redraw()
        self._follow_run()

    def _follow_run(self) -> None:
        """Following, with graph 3 on screen: a fresh batch of the current weights once the run
        has moved past the one shown, one request at a time, at most FOLLOW_PER_SECOND while
        training runs, and never at full speed (the engine's gradient check would slow it)."""
        if not (self.follow and self.shown and self.graph == 3) or self.follow_asked:
            return
        if self.inspection is None or self.progress is None:
            return
        if self.progress.iteration == self.inspection.iteration:
            return
        if self.run_state is RunState.RUNNING:
            if self.speed is None or monotonic() - self.followed_at < 1 / FOLLOW_PER_SECOND:
                return
        self._ask_live()

    def _ask_live(self) -> None:
        self.follow_asked = True
        self.followed_at = monotonic()
        self.post_message(self.LiveInspectionWanted())
