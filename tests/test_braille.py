"""The loss chart's numpy braille drawing: dots where the data are, a frame and ticks as plotext."""

from rich.style import Style

from bp_tui.ui.drawing.braille import DASHED, BrailleChart

BLUE, RED = (0, 0, 255), (255, 0, 0)


def text(chart: BrailleChart, width: int = 20, height: int = 8) -> list[str]:
    strips = chart.picture(width, height, Style())
    assert all(strip.cell_length == width for strip in strips) and len(strips) == height
    return [strip.text for strip in strips]


def canvas(lines: list[str]) -> list[str]:
    """The cells inside the frame (rows between the top and bottom frame lines)."""
    left = lines[0].index("┌") + 1
    right = lines[0].index("┐")
    return [line[left:right] for line in lines[1:-3]]


def test_a_joined_line_leaves_no_column_empty_and_dots_alone_do():
    joined = BrailleChart(xlim=(0, 10))
    joined.line([0, 10], [0, 1], BLUE)
    cells = canvas(text(joined))
    assert all(any(row[col] != " " for row in cells) for col in range(len(cells[0])))
    dots = BrailleChart(xlim=(0, 10))
    dots.line([0, 10], [0, 1], BLUE, joined=False)
    cells = canvas(text(dots))
    assert sum(ch != " " for row in cells for ch in row) == 2  # the two ends only
    # The top right cell holds the high end, the bottom left the low one.
    assert cells[0][-1] != " " and cells[-1][0] != " "


def test_a_flat_line_is_one_row_of_dots_in_its_colour():
    chart = BrailleChart(xlim=(0, 1))
    chart.line([0, 1], [2.0, 2.0], RED)
    strips = chart.picture(20, 8, Style())
    rows = [s.text for s in strips[1:-3]]
    drawn = [r for r in rows if any("\u2800" < ch <= "\u28ff" for ch in r)]
    assert len(drawn) == 1
    colours = {
        seg.style.color.triplet for s in strips for seg in s if seg.style and seg.style.color
    }
    assert colours == {(255, 0, 0)}


def test_ticks_and_labels_are_placed_at_round_values():
    chart = BrailleChart(xticks=[0, 50, 100], xlabels=["0", "50", "100"], xlim=(0, 101))
    chart.xlabel = "iteration"
    chart.line([0, 100], [0.5, 2.5], BLUE)
    lines = text(chart, width=40, height=12)
    assert lines[1].lstrip().startswith("2.5┤") and "0.5┤" in lines[-4]
    assert lines[-3].count("┬") == 3 and "└" in lines[-3] and "┘" in lines[-3]
    assert lines[-2].split() == ["0", "50", "100"] and lines[-1].strip() == "iteration"


def test_a_log_axis_labels_the_values_not_their_logarithms_and_a_mark_is_a_column():
    chart = BrailleChart(log_y=True, xlim=(0, 10), vlines=[(5.0, RED)])
    chart.line([0, 10], [10.0, 0.1], BLUE)
    lines = text(chart, width=30, height=10)
    assert lines[1].lstrip().startswith("10┤") and "0.1┤" in lines[-4]
    cells = canvas(lines)
    marked = [col for col in range(len(cells[0])) if all(row[col] != " " for row in cells)]
    assert marked  # the change mark runs from top to bottom


def labels(lines: list[str]) -> list[str]:
    return [line.split("┤")[0].strip() for line in lines if "┤" in line]


def test_y_ticks_sit_at_round_values_on_a_linear_and_a_log_axis():
    chart = BrailleChart(xlim=(0, 10))
    chart.line([0, 10], [0.23, 1.71], BLUE)
    assert labels(text(chart, width=30, height=12)) == ["1.5", "1.0", "0.5"]
    log = BrailleChart(xlim=(0, 10), log_y=True)
    log.line([0, 10], [0.004, 3.0], BLUE)
    assert labels(text(log, width=30, height=12)) == ["1", "0.1", "0.01"]
    narrow = BrailleChart(xlim=(0, 10), log_y=True)
    narrow.line([0, 10], [0.15, 0.9], BLUE)
    assert labels(text(narrow, width=30, height=12)) == ["0.5", "0.3", "0.2"]
    # A diverged loss from 8.7 down to 2.1: labels down to the bottom, not 8 6 4 alone.
    loss = BrailleChart(xlim=(0, 10), log_y=True)
    loss.line([0, 10], [8.7, 2.1], BLUE)
    assert labels(text(loss, width=30, height=16)) == ["8", "6", "5", "4", "3"]


def test_a_line_that_does_not_fit_the_axis_is_clipped_to_the_others():
    chart = BrailleChart(xlim=(0, 10))
    chart.line([0, 10], [2.3, 7.94], RED, fits=False)  # a diverged run beneath
    chart.line([0, 10], [2.3, 0.3], BLUE)
    assert float(labels(text(chart, width=30, height=12))[0]) <= 2.5


def test_patterns_leave_gaps_and_the_readout_names_each_line_at_the_cursor():
    solid, dashed = BrailleChart(xlim=(0, 10)), BrailleChart(xlim=(0, 10))
    solid.line([0, 10], [0, 1], BLUE)
    dashed.line([0, 10], [0, 1], BLUE, pattern=DASHED)
    count = [sum(ch != " " for row in canvas(text(c, 40)) for ch in row) for c in (solid, dashed)]
    assert count[1] < count[0]
    chart = BrailleChart(xlim=(0, 10), xlabel="iteration", cursor=5.0)
    chart.line([0, 5, 10], [1.0, 0.5, 0.25], BLUE, name="smoothed")
    lines = text(chart, width=40, height=10)
    assert "iteration 5" in lines[1] and "━ smoothed  0.5" in lines[2]


def test_a_log_axis_far_from_1_labels_its_decades_alike():
    chart = BrailleChart(xlim=(0, 10), log_y=True)
    chart.line([0, 10], [3e-7, 0.5], BLUE)
    assert labels(text(chart, width=30, height=16)) == [
        "1e-1",
        "1e-2",
        "1e-3",
        "1e-4",
        "1e-5",
        "1e-6",
    ]


def test_every_dot_lies_inside_the_frame_and_the_x_range_ends_at_it():
    """At any size and range, no dot, guide or readout cell lies on or beyond the frame, and the
    last point (at the x range's end) is in the plot's last column."""
    for width, height in ((12, 6), (22, 8), (40, 12), (70, 17), (117, 30)):
        for x1, ys in ((100, [2.3, 0.1]), (3_061, [0.71, 0.97]), (1e6, [1e-4, 9e4])):
            for cursor in (None, x1 * 0.9, x1 * 0.1):
                chart = BrailleChart(xlim=(0, x1), cursor=cursor, xlabel="iteration")
                chart.line([0, x1 / 2, x1, x1 * 1.5], [*ys, ys[1], ys[0]], BLUE, name="a")
                chart.line([0, x1], ys, RED, joined=False, name="b")
                lines = text(chart, width, height)
                left, right = lines[0].index("┌"), lines[0].index("┐")
                for row in lines[1:-3]:
                    assert row[right] == "│" and row[left] in "│┤", (width, x1, row)
                    outside = row[right:] + row[:left]
                    assert not any("\u2800" <= ch <= "\u28ff" for ch in outside), row
                assert lines[-3].index("┘") == right
                if cursor is None:
                    last = [row[right - 1] for row in lines[1:-3]]
                    assert any("\u2800" < ch <= "\u28ff" for ch in last), (width, x1, last)


def test_on_a_short_chart_the_readout_puts_its_entries_side_by_side():
    """A chart of two rows had room for the x and one line's value: the others were cut."""
    chart = BrailleChart(xlim=(0, 100), xlabel="iteration", cursor=80.0)
    chart.line([0, 100], [2.0, 0.5], BLUE, name="mini-batch")
    chart.line([0, 100], [1.8, 0.6], RED, name="smoothed")
    chart.line([0, 100], [1.0, 0.4], RED, name="previous run")
    lines = text(chart, width=60, height=6)  # two rows of plot
    plot = "\n".join(lines[1:3])
    for entry in ("iteration 80", "mini-batch 0.8", "smoothed 0.84", "previous run 0.52"):
        assert entry in plot, plot
    short = text(chart, width=40, height=5)[1]  # one row: the x and the values, unnamed
    assert "80  ━ 0.8  ━ 0.84  ━ 0.52" in short, short
    tall = "\n".join(text(chart, width=60, height=12)[1:5])  # a row each where they fit
    assert [line.strip(" │┤0123456789.")[:12] for line in tall.splitlines()] == [
        "iteration 80",
        "━ mini-batch",
        "━ smoothed  ",
        "━ previous r",
    ]


def test_the_readout_names_this_runs_lines_before_earlier_runs():
    chart = BrailleChart(xlim=(0, 10), xlabel="iteration", cursor=5.0)
    chart.line([0, 10], [1.0, 0.2], RED, name="previous run", fits=False, earlier=True)
    chart.line([0, 10], [2.0, 0.5], BLUE, name="smoothed")
    text(chart, width=40, height=12)  # lays the plot out: the readout reads where
    names = [series.name for _, series in chart.readout() if series is not None]
    assert names == ["smoothed", "previous run"]


def test_the_readout_puts_the_values_in_a_column_after_the_names():
    """A compared run's label ends in a number (`lr 0.2→0.1 at 300`): its value stood right
    after it, as if one."""
    chart = BrailleChart(xlim=(0, 10), xlabel="iteration", cursor=5.0)
    chart.line([0, 10], [2.0, 0.5], BLUE, name="smoothed")
    chart.line([0, 10], [1.0, 0.2], RED, name="07:42 lr 0.2→0.1 at 300", fits=False)
    lines = text(chart, width=60, height=12)[2:4]
    columns = {line.index(value) for line, value in zip(lines, ("1.25", "0.6"), strict=True)}
    assert len(columns) == 1 and "at 300  0.6" in lines[1], lines


def test_each_label_sits_on_the_row_where_a_line_at_its_value_is_drawn():
    """Labels were placed by rows, the dots by sub-rows: on the pinned 0-1 axis 0.4 sat a row off
    its value (gaps of 3, 2, 3 rows between 0.8, 0.6, 0.4, 0.2)."""
    checked = 0
    for height in (12, 18, 20, 23, 30):
        probe = BrailleChart(xlim=(0, 1), ylim=(0.0, 1.0))
        probe.line([0, 1], [0.0, 0.0], BLUE)
        labels = [line.split("┤")[0].strip() for line in text(probe, 30, height) if "┤" in line]
        for label in labels:
            chart = BrailleChart(xlim=(0, 1), ylim=(0.0, 1.0))
            chart.line([0, 1], [float(label), float(label)], BLUE)
            (row,) = [line for line in text(chart, 30, height) if line.startswith(f"{label}┤")]
            assert row.split("┤")[1].strip(" │"), (height, label)
            checked += 1
    assert checked >= 15
