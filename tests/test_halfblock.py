"""Half-block pictures: two pixel rows per cell, top pixel as foreground, bottom as background."""

import numpy as np
from rich.console import Console
from rich.text import Text
from textual.color import Color

from bp_tui.ui.drawing.halfblock import (
    UPPER_HALF,
    diverging,
    diverging_palette,
    grayscale,
    halfblock,
    ramp,
    side_by_side,
)
from bp_tui.ui.widgets.learned import axis, bars

BLACK, WHITE = Color(0, 0, 0), Color(255, 255, 255)
RED, GREY, BLUE = Color(200, 0, 0), Color(30, 30, 30), Color(0, 0, 200)


def cells(text: Text) -> list[list[tuple[str, str, str]]]:
    """(character, foreground hex, background hex) of every cell, line by line."""
    console = Console(color_system="truecolor")
    out = []
    for line in text.split("\n", allow_blank=True):
        row = []
        for offset, char in enumerate(line.plain):
            style = line.get_style_at_offset(console, offset)
            row.append((char, style.color.triplet.hex, style.bgcolor.triplet.hex))
        out.append(row)
    return out


def hexes(*colours: Color) -> list[str]:
    return [colour.hex6.lower() for colour in colours]


def test_a_28x28_image_is_14_lines_of_28_upper_half_blocks():
    text = grayscale(np.zeros((28, 28), dtype=np.uint8), BLACK, WHITE)
    lines = text.plain.split("\n")
    assert len(lines) == 14
    assert all(line == UPPER_HALF * 28 for line in lines)
    assert not text.plain.endswith("\n")


def test_top_pixel_is_the_foreground_and_bottom_pixel_the_background():
    indices = np.array([[0, 1, 2], [2, 1, 0]])
    palette = ["#000000", "#808080", "#ffffff"]
    (row,) = cells(halfblock(indices, palette))
    assert row == [
        (UPPER_HALF, "#000000", "#ffffff"),
        (UPPER_HALF, "#808080", "#808080"),
        (UPPER_HALF, "#ffffff", "#000000"),
    ]


def test_an_odd_last_row_is_drawn_over_the_background():
    (row,) = cells(halfblock(np.array([[2, 1]]), ["#000000", "#808080", "#ffffff"]))
    assert row == [(UPPER_HALF, "#ffffff", "#000000"), (UPPER_HALF, "#808080", "#000000")]


def test_equal_neighbours_share_one_span():
    text = halfblock(np.zeros((2, 28), dtype=int), ["#000000"])
    assert len(text.spans) == 1


def test_grayscale_maps_bytes_and_floats_alike_from_background_to_ink():
    image = np.zeros((28, 28), dtype=np.uint8)
    image[0, 0], image[1, 0] = 255, 128
    by_bytes = cells(grayscale(image, BLACK, WHITE))
    by_floats = cells(grayscale(image.astype(np.float32) / 255, BLACK, WHITE))
    assert by_bytes == by_floats
    first = by_bytes[0][0]
    assert first[1] == "#ffffff"  # full ink on top
    assert first[2] not in ("#000000", "#ffffff")  # mid grey below
    assert by_bytes[5][5] == (UPPER_HALF, "#000000", "#000000")


def test_ramp_and_diverging_palette_end_on_the_given_colours():
    assert [ramp(BLACK, WHITE, 5)[i].lower() for i in (0, -1)] == hexes(BLACK, WHITE)
    palette = [colour.lower() for colour in diverging_palette(RED, GREY, BLUE, 24)]
    assert len(palette) == 24
    assert [palette[0], palette[12], palette[-1]] == hexes(RED, GREY, BLUE)


def test_diverging_weights_negative_zero_positive():
    weights = np.zeros((2, 3))
    weights[0] = [-0.5, 0.0, 0.5]  # top row: the scale's two ends and zero
    weights[1] = [0.1, -0.05, np.nan]  # NaN is drawn as zero
    (row,) = cells(diverging(weights, RED, GREY, BLUE))
    tops = [cell[1] for cell in row]
    bottoms = [cell[2] for cell in row]
    assert tops == hexes(RED, GREY, BLUE)
    assert bottoms[2] == GREY.hex6.lower()
    assert bottoms[0] not in tops and bottoms[1] not in tops  # faint shades in between


def test_diverging_with_a_fixed_scale_clips_and_an_all_zero_picture_is_flat():
    (row,) = cells(diverging(np.array([[5.0], [-5.0]]), RED, GREY, BLUE, scale=1.0))
    assert row == [(UPPER_HALF, *hexes(BLUE, RED))]
    flat = cells(diverging(np.zeros((4, 4)), RED, GREY, BLUE))
    assert {cell for line in flat for cell in line} == {(UPPER_HALF, *hexes(GREY, GREY))}


def test_side_by_side_keeps_widths_and_pads_a_shorter_picture():
    a = halfblock(np.zeros((4, 3), dtype=int), ["#000000"])
    b = halfblock(np.zeros((2, 2), dtype=int), ["#000000"])
    joined = side_by_side([a, b], gap=2).plain.split("\n")
    assert joined == [UPPER_HALF * 3 + "  " + UPPER_HALF * 2, UPPER_HALF * 3 + "  "]


def test_histogram_bars_fill_the_height_and_keep_a_lone_count_visible():
    lines = bars(np.array([0, 1, 8, 100]), rows=2)
    assert lines == ["   █", " ▁▁█"]
    assert bars(np.zeros(3), rows=1) == ["   "]


def test_axis_puts_the_ends_at_the_sides_and_zero_where_it_falls():
    line = axis(np.linspace(-1.0, 1.0, 33), 32)
    assert len(line) == 32 and line.startswith("-1 ") and line.endswith(" 1")
    assert line.index("0") == 16
    assert axis(np.linspace(1.0, 2.0, 33), 32) == "1" + " " * 30 + "2"  # no 0 outside the range
