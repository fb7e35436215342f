"""bp-tui: watch backpropagation train the two-layer network of "Deep Learning from Scratch", ch. 5."""

__version__ = "0.1.0"
