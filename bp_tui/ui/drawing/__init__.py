"""Drawing helpers that turn numbers into Text and Strips (braille plots, half blocks): no
widgets here."""
