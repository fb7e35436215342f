"""Hostile learner files through the real `bp-tui check` process: each is one clear line in the
report, the other classes are still checked, nothing hangs, nothing is left running.

Each file is the book-style corpus file with one hostile change in its Sigmoid (or at its top
level, where it is skipped). The child's time limit is 2 s here (--timeout): what a test waits
for is the command's end, however long a loaded machine makes it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import wait_until
from tests.test_faults_process import cmdline

pytestmark = pytest.mark.hostile

BOOK_STYLE = (Path(__file__).parent / "learners" / "book_style.py").read_text()
SIGMOID = "class Sigmoid:\n"
SIGMOID_FORWARD = "    def forward(self, x):\n        out = 1 / (1 + np.exp(-x))"
SIGMOID_INIT = "        self.out = None\n"


def hostile(old: str, new: str) -> str:
    assert BOOK_STYLE.count(old) == 1
    return BOOK_STYLE.replace(old, new)


def forward_doing(*lines: str) -> str:
    body = "".join(f"        {line}\n" for line in lines)
    return hostile(
        SIGMOID_FORWARD, f"    def forward(self, x):\n{body}        out = 1 / (1 + np.exp(-x))"
    )


CASES = {
    "loop_in_forward": (
        # one line: stopped on the loop's test or on its body, the line named is the same
        forward_doing("while True: pass"),
        ["Sigmoid          does not run", "still running after 2 s", "while True: pass"],
    ),
    "loop_in_class_body": (
        hostile(SIGMOID, "class Sigmoid:\n    while True:\n        pass\n"),
        ["Sigmoid          does not run", "its definition is still running after 2 s"],
    ),
    "huge_list": (
        hostile(SIGMOID_INIT, SIGMOID_INIT + "        self.buffer = [0.0] * 10**10\n"),
        ["Sigmoid          does not run", "MemoryError", "self.buffer = [0.0] * 10**10"],
    ),
    "huge_array": (
        hostile(SIGMOID_INIT, SIGMOID_INIT + "        self.buffer = np.ones((100000, 100000))\n"),
        ["Sigmoid          does not run", "MemoryError", "np.ones((100000, 100000))"],
    ),
    "sys_exit_at_import": (
        hostile(SIGMOID, "import sys\nsys.exit()\nclass Sigmoid:\n    sys.exit(3)\n"),
        [
            "Sigmoid          does not run",
            "sys.exit(3) was called",
            "3 top-level statements skipped",
        ],
    ),
    "input_at_import": (
        hostile(SIGMOID, "name = input('your name? ')\nclass Sigmoid:\n    answer = input()\n"),
        ["Sigmoid          does not run", "input() was called", "answer = input()"],
    ),
    "input_in_forward": (
        forward_doing("input('press enter')"),
        ["Sigmoid          does not run", "input() was called", "input() waits for someone"],
    ),
    "ten_thousand_prints": (
        hostile(
            SIGMOID,
            "for i in range(10000):\n    print(i)\nclass Sigmoid:\n    for i in range(10000):\n        print('line', i)\n",
        ),
        ["7 passed", "your code printed 10,000 lines (not shown)"],
    ),
    "os_exit_in_forward": (
        forward_doing("import os", "os._exit(3)"),
        ["Sigmoid          does not run", "the checking process ended (status 3)"],
    ),
    "endless_recursion": (
        forward_doing("return self.forward(x)"),
        ["Sigmoid          does not run", "RecursionError", "calls itself"],
    ),
    "a_process_started_then_a_loop": (
        forward_doing(
            "import subprocess", "subprocess.Popen(['sleep', '301.25'])", "while True:", "    pass"
        ),
        ["Sigmoid          does not run", "still running after 2 s"],
    ),
}


def check(path: Path, *options: str) -> subprocess.CompletedProcess:
    # The timeout only keeps a broken build from hanging the suite; no assert depends on it.
    return subprocess.run(
        [sys.executable, "-m", "bp_tui", "check", "--timeout", "2", *options, str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=path.parent,
    )


def left_running(marker: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            line = cmdline(int(entry.name))
            if marker in line:
                found.append(line)
    return found


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_hostile_file_is_one_clear_line(case, tmp_path):
    source, expected = CASES[case]
    path = tmp_path / f"{case}.py"
    path.write_text(source)
    done = check(path)
    assert done.stderr == ""
    assert "Traceback" not in done.stdout
    for words in expected:
        assert words in done.stdout, done.stdout
    lines = done.stdout.splitlines()
    # the other six classes were checked, and passed
    assert sum(line.endswith("passed") for line in lines) >= 6, done.stdout
    assert done.returncode == (0 if case == "ten_thousand_prints" else 1)
    assert left_running(str(tmp_path)) == []
    if case == "a_process_started_then_a_loop":  # its sleep (another case's may run beside)
        assert left_running("sleep 301.25") == []


def test_only_definitions_run_so_a_download_at_the_top_never_happens(tmp_path):
    marker = tmp_path / "ran"
    path = tmp_path / "trains.py"
    path.write_text(BOOK_STYLE + f"\nopen({str(marker)!r}, 'w').write('the training loop ran')\n")
    done = check(path)
    assert done.returncode == 0, done.stdout
    assert not marker.exists()
    assert "3 top-level statements skipped" in done.stdout


def test_writing_on_the_check_s_own_descriptor_is_dropped(tmp_path):
    # The child's report goes out on a descriptor their code could find: garbage there is
    # not a traceback in the parent.
    source = forward_doing(
        "import os",
        "[os.write(fd, b'garbage\\n{not json\\n') for fd in range(3, 20) if _ok(fd)]",
    )
    source = source.replace(
        "class Sigmoid:\n",
        "def _ok(fd):\n    import os\n    try:\n        os.fstat(fd)\n        return True\n    except OSError:\n        return False\n\n\nclass Sigmoid:\n",
        1,
    )
    path = tmp_path / "scribbles.py"
    path.write_text(source)
    done = check(path)
    assert "Traceback" not in done.stdout + done.stderr
    assert done.returncode in (0, 1)
    assert "Sigmoid" in done.stdout


def checking_forever(tmp_path: Path) -> tuple[subprocess.Popen, Path]:
    """`bp-tui check` on a Sigmoid.forward that loops for ever (limit 600 s), once the child
    is in that loop (it left a marker file)."""
    marker = tmp_path / "in_forward"
    path = tmp_path / "loops.py"
    path.write_text(forward_doing(f"open({str(marker)!r}, 'w').close()", "while True:", "    pass"))
    parent = subprocess.Popen(
        [sys.executable, "-m", "bp_tui", "check", "--timeout", "600", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    wait_until(marker.exists)
    return parent, path


def test_ctrl_c_ends_the_check_and_its_child_at_once_with_one_line(tmp_path):
    parent, path = checking_forever(tmp_path)
    parent.send_signal(signal.SIGINT)
    _, err = parent.communicate(timeout=300)
    assert parent.returncode == 130
    assert err == "bp-tui: interrupted\n"
    assert left_running(str(path)) == []


def test_the_child_goes_with_a_parent_killed_outright(tmp_path):
    """SIGKILL leaves the parent no time to end it: the kernel does (PR_SET_PDEATHSIG)."""
    parent, path = checking_forever(tmp_path)
    assert left_running(f"bp_tui.learner.child {path.resolve()}") != []
    parent.kill()
    parent.communicate(timeout=300)
    wait_until(lambda: left_running(f"bp_tui.learner.child {path.resolve()}") == [])


def test_after_a_hang_a_net_on_a_wrong_layer_still_names_that_layer_s_line(tmp_path):
    # Relu (wrong) is checked by the first child; Sigmoid's loop ends it; the net is checked by
    # the next child, which must still know where the Relu went wrong.
    from bp_tui.learner import check_path

    learner = (Path(__file__).parent / "learners" / "fault_relu_mask_wrong_side.py").read_text()
    assert learner.count(SIGMOID_FORWARD) == 1
    path = tmp_path / "relu_and_a_loop.py"
    path.write_text(
        learner.replace(
            SIGMOID_FORWARD,
            SIGMOID_FORWARD.replace("(self, x):", "(self, x):\n        while True: pass"),
        )
    )
    report = check_path(path, limit=2.0)
    classes = {c.book_name: c for c in report.classes}
    assert "still running" in classes["Sigmoid"].findings[0].what
    net = classes["TwoLayerNet"]
    assert net.findings and all("# fault" in f.place.text for f in net.findings), net.findings
