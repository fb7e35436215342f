"""What `bp-tui check` found: per class passed / wrong / does not run, as text or one JSON object."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from bp_tui.learner.names import BOOK_CLASSES
from bp_tui.learner.source import Place

PASSED, WRONG, DOES_NOT_RUN = "passed", "wrong", "does not run"
SHOWN_FINDINGS = 3  # a class's first findings in the text report; the first is the one to fix


@dataclass
class Finding:
    """One thing wrong with a class: which quantity, what, the likely cause, the learner's line."""

    quantity: str
    what: str
    cause: str | None = None
    place: Place | None = None
    index: list[int] | None = None
    got: float | None = None
    expected: float | None = None

    def to_dict(self) -> dict:
        data = asdict(self)
        data["place"] = self.place.to_dict() if self.place else None
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Finding:
        place = data.get("place")
        return cls(**{**data, "place": Place(**place) if place else None})


@dataclass
class ClassResult:
    book_name: str
    name: str
    status: str
    place: Place | None = None
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "book_name": self.book_name,
            "name": self.name,
            "status": self.status,
            "place": self.place.to_dict() if self.place else None,
            "findings": [f.to_dict() for f in self.findings],
            "notes": self.notes,
            "checked": self.checked,
        }

    @classmethod
    def from_dict(cls, data: dict) -> ClassResult:
        place = data.get("place")
        return cls(
            data["book_name"],
            data["name"],
            data["status"],
            Place(**place) if place else None,
            [Finding.from_dict(f) for f in data.get("findings", [])],
            list(data.get("notes", [])),
            list(data.get("checked", [])),
        )


@dataclass
class CheckReport:
    path: str
    classes: list[ClassResult] = field(default_factory=list)
    skipped_statements: int = 0
    notes: list[str] = field(default_factory=list)
    printed_lines: int = 0

    @property
    def not_found(self) -> list[str]:
        found = {c.book_name for c in self.classes}
        return [name for name in BOOK_CLASSES if name not in found]

    @property
    def passed(self) -> bool:
        return bool(self.classes) and all(c.status == PASSED for c in self.classes)

    @property
    def exit_code(self) -> int:
        """0 when every class found passes, 1 when one is wrong, does not run, or none is found."""
        return 0 if self.passed else 1

    def to_dict(self) -> dict:
        return {
            "path": self.path,
            "passed": self.passed,
            "classes": [c.to_dict() for c in self.classes],
            "not_found": self.not_found,
            "skipped_statements": self.skipped_statements,
            "printed_lines": self.printed_lines,
            "notes": self.notes,
        }

    def lines(self) -> list[str]:
        """The report as the terminal shows it."""
        out = [f"bp-tui check {self.path}"]
        width = max([len(c.name) for c in self.classes] + [8])
        for result in self.classes:
            alias = f" (as {result.book_name})" if result.name != result.book_name else ""
            where = f"  {Path(result.place.file).name}" if result.place and self._many_files else ""
            out.append(f"  {result.name:<{width}}  {result.status}{alias}{where}")
            for finding in result.findings[:SHOWN_FINDINGS]:
                out.extend(_finding_lines(finding))
            if len(result.findings) > SHOWN_FINDINGS:
                out.append(
                    f"      and {len(result.findings) - SHOWN_FINDINGS} more (--json lists all)"
                )
            out.extend(f"      note: {note}" for note in result.notes)
        counts = {
            s: sum(c.status == s for c in self.classes) for s in (PASSED, WRONG, DOES_NOT_RUN)
        }
        if self.not_found and self.classes:
            out.append(f"  not found: {', '.join(self.not_found)}")
        if self.skipped_statements:
            out.append(
                f"  {self.skipped_statements} top-level statement"
                f"{'s' if self.skipped_statements != 1 else ''} skipped (only imports and "
                "definitions run)"
            )
        if self.printed_lines:
            lines = "line" if self.printed_lines == 1 else "lines"
            out.append(f"  your code printed {self.printed_lines:,} {lines} (not shown)")
        out.extend(f"  note: {note}" for note in self.notes)
        if not self.classes:
            out.append(f"found none of {', '.join(BOOK_CLASSES)}")
        else:
            plural = {"does not run": "do not run"}  # "2 do not run"; passed and wrong agree
            out.append(
                ", ".join(
                    f"{n} {s if n == 1 else plural.get(s, s)}" for s, n in counts.items() if n
                )
            )
        return out

    def summary(self) -> str:
        """One line: the classes that are not right, then the counts (the text report's end)."""
        bad = [f"{c.name} {c.status}" for c in self.classes if c.status != PASSED]
        return "; ".join([*bad, self.lines()[-1]])

    @property
    def _many_files(self) -> bool:
        return len({c.place.file for c in self.classes if c.place}) > 1


def _finding_lines(finding: Finding) -> list[str]:
    lines = [f"      {finding.what}"]
    if finding.cause:
        lines.append(f"      likely cause: {finding.cause}")
    if finding.place:
        text = f": {finding.place.text}" if finding.place.text else ""
        lines.append(f"      at {finding.place}{text}")
    return lines
