"""Where in a learner's method a value was made: the line a report names for a wrong value.

A wrong value is seldom wrong where it is returned or stored (`return dout`): it was made on the
last line that assigned it or changed it in place before (`dout[~self.mask] = 0`). Read from the
method's source alone (nothing runs), following plain copies of a name (`dx = dout`).
"""

from __future__ import annotations

import ast


def target_key(target: ast.expr) -> str | None:
    """The name an assignment target binds or changes, lower-case: x, self.x and x[...] -> x."""
    if isinstance(target, ast.Name):
        return target.id.lower()
    if isinstance(target, ast.Attribute):
        return target.attr.lower()
    if isinstance(target, ast.Subscript):
        return target_key(target.value)
    return None


def _targets(statement: ast.stmt) -> list[ast.expr]:
    if isinstance(statement, ast.Assign):
        return [t for target in statement.targets for t in _unpacked(target)]
    if isinstance(statement, ast.AugAssign | ast.AnnAssign):
        return [statement.target]
    return []


def _unpacked(target: ast.expr) -> list[ast.expr]:
    if isinstance(target, ast.Tuple | ast.List):
        return [t for element in target.elts for t in _unpacked(element)]
    return [target]


def _statements(method: ast.AST) -> list[ast.stmt]:
    """The method's statements in source order."""
    found = [n for n in ast.walk(method) if isinstance(n, ast.stmt) and n is not method]
    return sorted(found, key=lambda n: (n.lineno, n.col_offset))


def last_change(method: ast.AST, key: str, before: int | None = None) -> ast.stmt | None:
    """The last statement (before line `before`) that assigns `key` or changes it in place."""
    changes = [
        s
        for s in _statements(method)
        if (before is None or s.lineno < before) and any(target_key(t) == key for t in _targets(s))
    ]
    return changes[-1] if changes else None


def _copied_name(statement: ast.stmt) -> str | None:
    """`dx = dout`: the name a plain copy takes its value from, else None."""
    value = getattr(statement, "value", None)
    if isinstance(statement, ast.Assign) and isinstance(value, ast.Name | ast.Attribute):
        return target_key(value)
    return None


def _origin(method: ast.AST, statement: ast.stmt) -> ast.stmt:
    """Through plain copies, back to the statement that made the value."""
    seen = {id(statement)}
    while (name := _copied_name(statement)) is not None:
        earlier = last_change(method, name, statement.lineno)
        if earlier is None or id(earlier) in seen:
            break
        seen.add(id(earlier))
        statement = earlier
    return statement


def made_at(method: ast.AST, quantity: str | None = None) -> ast.AST:
    """The statement that made `quantity` (stored or returned under that name), else what the
    method's last return gives, else the method itself."""
    if quantity:
        assigned = last_change(method, quantity.lower())
        if assigned is not None:
            return _origin(method, assigned)
    returns = [s for s in _statements(method) if isinstance(s, ast.Return)]
    if not returns:
        return method
    returned = returns[-1]
    value = returned.value
    key = target_key(value) if isinstance(value, ast.Name | ast.Attribute) else None
    made = last_change(method, key, returned.lineno) if key else None
    return returned if made is None else _origin(method, made)


def changed_in_place(method: ast.FunctionDef | ast.AsyncFunctionDef) -> ast.stmt | None:
    """The last statement that changes one of the method's arguments in place (x[...] = ...,
    x += ...), or None."""
    arguments = {a.arg.lower() for a in method.args.args[1:]}
    changes = [
        s
        for s in _statements(method)
        for t in _targets(s)
        if (isinstance(t, ast.Subscript) or isinstance(s, ast.AugAssign))
        and isinstance(t.value if isinstance(t, ast.Subscript) else t, ast.Name)
        and target_key(t) in arguments
    ]
    return changes[-1] if changes else None


def attributes_read(method: ast.AST) -> set[str]:
    """The attributes a method reads, lower-case (self.y -> y)."""
    return {
        n.attr.lower()
        for n in ast.walk(method)
        if isinstance(n, ast.Attribute)
        and isinstance(n.ctx, ast.Load)
        and isinstance(n.value, ast.Name)
    }
