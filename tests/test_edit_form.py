"""The edit form (e) as a user types into it: focus on open, numbers with commas."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from tests.helpers import until
from tests.test_dashboard import make_app, open_edit_form


async def test_the_form_opens_with_the_learning_rate_focused():
    """`e` then `7` did nothing: no field had the focus."""
    app, _ = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        form = await open_edit_form(app, pilot)
        lr = form.query_one("#in-lr", Input)
        await until(pilot, lambda: app.focused is lr)
        await pilot.press("7")
        await until(pilot, lambda: lr.value == "7")  # the value is selected: typing replaces it


async def test_a_decimal_comma_is_refused_beside_its_field_not_read_as_five():
    """`0,5` in the learning rate became lr 5 (the comma thrown away)."""
    app, links = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        form = await open_edit_form(app, pilot)
        form.query_one("#in-lr", Input).value = "0,5"
        form.query_one("#in-batch_size", Input).value = "100,50"
        await pilot.press("ctrl+s")
        lr_error, batch_error = form.query_one("#err-lr"), form.query_one("#err-batch_size")
        await until(pilot, lambda: "use a point: 0.5" in str(lr_error.render()))
        await until(pilot, lambda: "groups of three digits" in str(batch_error.render()))
        assert app.screen is form and app.hp.lr == 0.1 and app.hp.batch_size == 50
        form.query_one("#in-lr", Input).value = "0.5"
        form.query_one("#in-batch_size", Input).value = "50"
        form.query_one("#in-iters", Input).value = "1,000"  # a thousands separator
        await pilot.press("ctrl+s")
        await until(pilot, lambda: links[0].engine.trainer.hp.lr == 0.5)
        await until(pilot, lambda: links[0].engine.trainer.hp.iters == 1000)


async def test_a_batch_larger_than_the_training_set_is_refused_beside_its_field():
    app, links = make_app()  # tiny_data: 600 training images
    async with app.run_test(size=(120, 40)) as pilot:
        form = await open_edit_form(app, pilot)
        form.query_one("#in-batch_size", Input).value = "601"
        await pilot.press("ctrl+s")
        error = form.query_one("#err-batch_size")
        await until(pilot, lambda: "at most 600" in str(error.render()))
        assert app.screen is form and links[0].engine.trainer.hp.batch_size == 50
        form.query_one("#in-batch_size", Input).value = "600"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: links[0].engine.trainer.hp.batch_size == 600)


BAD_VALUES = {  # each field's longest kind of error
    "lr": "0,5",
    "batch_size": "100,50",
    "hidden": "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz",
    "iters": "x",
    "seed": "-1",
    "eval_every": "1,0000",
}


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_every_fields_error_is_shown_whole(size):
    """`abc` in hidden layers read "... such as 100,100 (got " at 120x40: the rest was cut."""
    from rich.text import Text

    app, _ = make_app()
    async with app.run_test(size=size) as pilot:
        form = await open_edit_form(app, pilot)
        for field, value in BAD_VALUES.items():
            form.query_one(f"#in-{field}", Input).value = value
        await pilot.press("ctrl+s")
        errors = [form.query_one(f"#err-{field}") for field in BAD_VALUES]
        await until(pilot, lambda: all(str(e.render()).endswith(")") for e in errors))
        for field, error in zip(BAD_VALUES, errors, strict=True):
            await until(pilot, lambda e=error: e.content_region.width > 0)
            box = error.content_region
            lines = Text(str(error.render())).wrap(app.console, box.width)
            assert len(lines) <= box.height, (field, box, [line.plain for line in lines])


async def test_whole_numbers_start_with_thousands_separators_and_apply_unchanged():
    """The form showed `iterations 10000` where the panels and the CLI show 10,000."""
    app, links = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        form = await open_edit_form(app, pilot)
        form.query_one("#in-iters", Input).value = "12345"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: links[0].engine.trainer.hp.iters == 12345)
        form = await open_edit_form(app, pilot)
        assert form.query_one("#in-iters", Input).value == "12,345"
        await pilot.press("ctrl+s")  # the shown values apply as they are: the form closes
        await until(pilot, lambda: app.screen is not form)
        assert links[0].engine.trainer.hp.iters == 12345
