"""Where a learner's method made a value: the line `bp-tui check` names for a wrong one."""

from __future__ import annotations

import ast
import textwrap

import pytest

from bp_tui.learner.lines import changed_in_place, made_at


def method(source: str) -> ast.FunctionDef:
    return ast.parse(textwrap.dedent(source)).body[0]


@pytest.mark.parametrize(
    ("source", "quantity", "made"),
    [
        # changed in place, then returned: the change made it
        (
            """
            def backward(self, dout):
                dout[self.mask] = 0
                return dout
            """,
            None,
            "dout[self.mask] = 0",
        ),
        # through a plain copy to the change before it
        (
            """
            def backward(self, dout):
                dout[self.mask] = 0
                dx = dout
                return dx
            """,
            "dx",
            "dout[self.mask] = 0",
        ),
        # the last of several changes, not the first assignment
        (
            """
            def forward(self, x):
                out = x.copy()
                out[self.mask] = 0
                return out
            """,
            "out",
            "out[self.mask] = 0",
        ),
        # an attribute stored under the quantity's name
        (
            """
            def backward(self, dout):
                self.dW = np.dot(dout.T, self.x)
                return np.dot(dout, self.W.T)
            """,
            "dW",
            "self.dW = np.dot(dout.T, self.x)",
        ),
        # a value made on the return line itself
        (
            """
            def backward(self, dout):
                y = self.y
                return dout * y
            """,
            None,
            "return dout * y",
        ),
        # a change after the return (another branch) is not what was returned
        (
            """
            def backward(self, dout):
                dx = dout * 2
                return dx
                dx = 0
            """,
            None,
            "dx = dout * 2",
        ),
    ],
)
def test_a_value_is_named_where_it_was_made(source, quantity, made):
    node = method(source)
    assert ast.unparse(made_at(node, quantity)) == made


def test_the_in_place_change_of_an_argument_is_found_and_only_of_an_argument():
    changes = method(
        """
        def backward(self, dy):
            out = dy.copy()
            out[0] = 1
            dy[self.mask] = 0
            return out
        """
    )
    assert ast.unparse(changed_in_place(changes)) == "dy[self.mask] = 0"
    copies = method(
        """
        def backward(self, dout):
            dx = dout.copy()
            dx[self.mask] = 0
            return dx
        """
    )
    assert changed_in_place(copies) is None
