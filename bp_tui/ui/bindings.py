"""Every key of the dashboard, in one place (the footer and the help screen read them here)."""

from textual.binding import Binding

LR_FACTOR = 2.0  # + and - multiply or divide the learning rate by this
BATCH_FACTOR = 2  # b and B double or halve the batch size
HIDDEN_STEP = 10  # h and H add or remove this many units in every hidden layer (at the next reset)
ZOOM_KEY = 0.5  # z shows half the iterations, Z twice as many (the mouse wheel zooms too)
PAN_KEY = (
    0.25  # shift+left/right move a zoomed chart this share of its range (a sideways scroll too)
)
SPEEDS = (1.0, 5.0, 50.0, None)  # < and > step through these iterations a second (None: full)
# Key pairs the help lists on one row
ZOOM = Binding.Group("Charts: zoom in / out")
PAN = Binding.Group("Zoomed: earlier / later")

APP_BINDINGS = [
    Binding("space", "toggle_run", "Run/Pause"),
    Binding("n", "step", "Step"),
    Binding("r", "reset", "Reset"),
    Binding("plus,equals_sign", "lr_up", f"lr ×{LR_FACTOR:g}", key_display="+"),
    Binding("minus", "lr_down", f"lr ÷{LR_FACTOR:g}", key_display="-"),
    Binding("b", "batch_up", f"batch ×{BATCH_FACTOR}", show=False),
    Binding("B", "batch_down", f"batch ÷{BATCH_FACTOR}", show=False),
    Binding("h", "hidden_up", f"every hidden layer +{HIDDEN_STEP} units (at reset)", show=False),
    Binding("H", "hidden_down", f"every hidden layer -{HIDDEN_STEP} units (at reset)", show=False),
    Binding("a", "toggle_activation", "ReLU/Sigmoid (at reset)", show=False),
    Binding("o", "cycle_optimizer", "Optimizer: SGD, Momentum, AdaGrad, Adam", show=False),
    Binding("i", "cycle_init", "Init: std 0.01, He, Xavier (at reset)", show=False),
    Binding("e", "edit", "Edit values"),
    Binding("g", "gradcheck", "Grad check"),
    Binding("x", "toggle_exact", "Book/exact", show=False),
    Binding("s", "save", "Save", show=False),
    Binding("l", "load", "Load latest", show=False),
    Binding("c", "compare_runs", "Compare with earlier runs", show=False),
    Binding(
        "greater_than_sign",
        "speed_up",
        "Faster (slow motion: 1, 5, 50 it/s, full)",
        key_display=">",
        show=False,
    ),
    Binding(
        "less_than_sign", "slow_down", "Slower (full, 50, 5, 1 it/s)", key_display="<", show=False
    ),
    Binding("L", "toggle_log_loss", "Loss chart: log scale", show=False),
    Binding("A", "toggle_pin_accuracy", "Accuracy axis: 0-1 or fitted", show=False),
    Binding("S", "cycle_smoothing", "Loss smoothing: 0 to 0.99", show=False),
    Binding("E", "toggle_epochs", "Charts' x axis: iterations/epochs", show=False),
    Binding(
        "z", f"zoom({ZOOM_KEY})", "Charts: zoom in on the latest iterations", show=False, group=ZOOM
    ),
    Binding("Z", f"zoom({1 / ZOOM_KEY})", "Charts: zoom out", show=False, group=ZOOM),
    Binding("0", "zoom_reset", "Charts: the whole run again", show=False),
    Binding(
        "shift+left",
        f"pan({-PAN_KEY})",
        "Charts zoomed: earlier",
        key_display="⇧←",
        show=False,
        group=PAN,
    ),
    Binding(
        "shift+right",
        f"pan({PAN_KEY})",
        "Charts zoomed: later",
        key_display="⇧→",
        show=False,
        group=PAN,
    ),
    Binding("P", "screenshot", "Save screenshot (SVG)", show=False),
    Binding("t", "next_tab", "Next tab"),
    Binding("question_mark", "help", "Help", key_display="?"),
    Binding("q", "quit", "Quit"),
    # Ctrl-C quits as in any terminal program (Textual only tells how to quit); a text field
    # with a selection still copies it. Ctrl-Z suspends the dashboard, fg brings it back.
    Binding("ctrl+c", "quit", "Quit", show=False),
    Binding("ctrl+z", "suspend_process", "Suspend (fg resumes)", show=False),
]

# The action that changes each hyperparameter: the panel and the notices show its keys.
FIELD_ACTIONS = {
    "lr": ("lr_up", "lr_down"),
    "batch_size": ("batch_up", "batch_down"),
    "hidden": ("hidden_up", "hidden_down"),
    "activation": ("toggle_activation",),
    "init": ("cycle_init",),
    "optimizer": ("cycle_optimizer",),
    "iters": ("edit",),
    "seed": ("edit",),
    "eval_every": ("edit",),
}


def key_of(binding: Binding) -> str:
    """A binding's key as the footer shows it."""
    return binding.key_display or binding.key.split(",")[0]


def keys_for(*actions: str, bindings=APP_BINDINGS) -> str:
    """The keys of the given actions: keys_for("lr_up", "lr_down") -> "+ -"."""
    return " ".join(key_of(next(b for b in bindings if b.action == a)) for a in actions)


# The Draw tab's pad (it takes the keys while its tab is shown): a pixel cursor for keyboards
# without a mouse, and the keys that send the drawing to the Inspector.
PAD_BINDINGS = [
    Binding("left", "move(0, -1)", "Cursor", key_display="←↑→↓"),
    # A group's other keys show as the group (the help lists each group once).
    Binding("right", "move(0, 1)", "Cursor right", show=False, key_display="←↑→↓"),
    Binding("up", "move(-1, 0)", "Cursor up", show=False, key_display="←↑→↓"),
    Binding("down", "move(1, 0)", "Cursor down", show=False, key_display="←↑→↓"),
    Binding(
        "shift+left", "move(0, -1, True)", "Draw while moving", show=False, key_display="⇧←↑→↓"
    ),
    Binding("shift+right", "move(0, 1, True)", "Draw right", show=False, key_display="⇧←↑→↓"),
    Binding("shift+up", "move(-1, 0, True)", "Draw up", show=False, key_display="⇧←↑→↓"),
    Binding("shift+down", "move(1, 0, True)", "Draw down", show=False, key_display="⇧←↑→↓"),
    Binding("space", "paint", "Paint"),
    Binding("backspace,x", "erase", "Erase at the cursor", show=False, key_display="⌫"),
    Binding(
        "c,delete", "clear", "Clear the pad", show=False, key_display="c"
    ),  # its border says it
    Binding("enter", "follow", "Follow it in the Inspector", key_display="⏎"),
    *(
        Binding(
            str(digit),
            f"follow({digit})",
            "Follow it with that label" if digit == 0 else f"Follow it, labelled {digit}",
            show=False,
            key_display="0-9",
        )
        for digit in range(10)
    ),
]
# The Digits tab: the test image under its cursor onto the pad.
DRAW_DIGIT = Binding("d", "draw", "Edit on the Draw pad")
