"""Make the README's screenshots from the app itself (Textual exports SVG).

    python scripts/screenshots.py [--out assets] [--only gradients]

A seeded run on the shipped sample, stepped by the script, so the pictures are the same each
time (but for the speed and time figures, which are those of the machine it ran on).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing.resource_tracker
import os
import tempfile
from pathlib import Path

from bp_tui.data import load_dataset
from bp_tui.engine import HyperParams
from bp_tui.engine import commands as cmd
from bp_tui.engine.remote import ThreadLink
from bp_tui.ui.app import BpTuiApp

ITERATIONS = 1500
SIZE = (120, 40)


async def until(condition, timeout: float = 60.0) -> None:
    waited = 0.0
    while not condition():
        if waited > timeout:
            raise TimeoutError("the app did not get there in time")
        await asyncio.sleep(0.05)
        waited += 0.05


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "assets"))
    parser.add_argument("--only", choices=["gradients"], help="just the Gradients tab's picture")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.only != "gradients":
        main_screenshots(out)
    gradients_screenshot(out)


def saver(app: BpTuiApp, out: Path):
    def save(name: str) -> None:
        path = out / f"screenshot-{name}.svg"
        path.write_text(app.export_screenshot(title=f"bp-tui: {name}"))
        print(f"wrote {path}")

    return save


def gradients_screenshot(out: Path) -> None:
    """The Gradients tab of chapter 6's vanishing gradient: a sigmoid net of four hidden layers
    of 100 with std 0.01 weights (--activation sigmoid --init std --hidden 100,100,100,100)."""
    hp = HyperParams(iters=10_000, hidden=(100, 100, 100, 100), activation="sigmoid", init="std")
    data = load_dataset("sample")
    app = BpTuiApp(lambda: ThreadLink(hp, data, start=False, blas_threads=1), hp, start=False)
    app.animation_level = "none"
    save = saver(app, out)

    async def shoot(pilot) -> None:
        await until(lambda: app.run_state == "ready")
        app.send(cmd.Step(ITERATIONS))
        await until(lambda: app.iteration >= ITERATIONS, timeout=600)
        await pilot.press("t", "t", "t", "t")
        await pilot.pause(1.0)
        save("gradients")
        await app.action_quit()

    app.run(headless=True, size=SIZE, auto_pilot=shoot)


def main_screenshots(out: Path) -> None:
    # The projector picture changes the theme, which the app remembers: not in the user's config.
    os.environ["BP_TUI_CONFIG"] = tempfile.mkdtemp(prefix="bp-tui-screenshots-")
    hp = HyperParams(iters=10_000)
    data = load_dataset("sample")
    app = BpTuiApp(lambda: ThreadLink(hp, data, start=False, blas_threads=1), hp, start=False)
    app.animation_level = "none"
    save = saver(app, out)

    async def shoot(pilot) -> None:
        await until(lambda: app.run_state == "ready")
        app.send(cmd.Step(ITERATIONS))
        await until(lambda: app.iteration >= ITERATIONS)
        await pilot.pause(0.5)
        save("train")
        app.theme = "projector"  # the class's projector: black on white
        await pilot.pause(0.5)
        save("projector")
        app.theme = "textual-dark"
        app.action_race("optimizers")  # the book's figure 6-9, trained for real on the sample
        await until(lambda: len(getattr(app.screen, "entries", ())) == 4, timeout=300)
        await pilot.pause(0.5)
        save("race")
        await pilot.press("escape")
        await pilot.press("t")  # the inspector, on the apple-and-orange graph, midway back
        await pilot.press("2", "end", "left", "left")
        await pilot.pause(0.3)
        save("inspector")
        await pilot.press("3")  # the live network, its last backward step
        await pilot.pause(5.0)  # the gradient check of a batch of 100 runs in the engine
        await pilot.press("end")
        await pilot.pause(0.3)
        save("network")
        await pilot.press("t")
        await pilot.pause(0.5)
        save("digits")
        await pilot.press("t")
        await pilot.pause(0.5)
        save("learned")
        await app.action_quit()

    # The race starts worker processes from inside the app, whose stderr Textual has replaced:
    # the resource tracker must be running before the app is (as bp-tui does).
    multiprocessing.resource_tracker.ensure_running()
    app.run(headless=True, size=SIZE, auto_pilot=shoot)


if __name__ == "__main__":
    main()
