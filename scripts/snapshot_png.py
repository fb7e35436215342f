"""Snapshot SVG -> PNG with every character at its own cell: usage scripts/snapshot_png.py in.svg out.png.

rsvg-convert ignores textLength, and with DejaVu (the only fonts here) braille glyphs are
wider than a cell: runs of braille drift right past the chart's frame in the PNG though the
cells are right. Placing each character at x + i * 12.2 (Textual's cell width) shows the cells."""

import html
import re
import subprocess
import sys

TEXT = re.compile(r'<text ([^>]*?)x="([\d.]+)"([^>]*)>([^<]*)</text>')


def split(match: re.Match) -> str:
    before, x, after, text = match.groups()
    after = re.sub(r' textLength="[\d.]+"', "", after)
    return "".join(
        f'<text {before}x="{float(x) + i * 12.2:.1f}"{after}>{html.escape(ch)}</text>'
        for i, ch in enumerate(html.unescape(text))
        if ch not in " \xa0"
    )


def main() -> None:
    source, target = sys.argv[1], sys.argv[2]
    with open(source) as stream:
        svg = stream.read().replace("<svg ", '<svg xml:space="preserve" ', 1)
    fixed = target + ".svg"
    with open(fixed, "w") as stream:
        stream.write(TEXT.sub(split, svg))
    subprocess.run(["rsvg-convert", "-o", target, fixed], check=True)


if __name__ == "__main__":
    main()
