"""`heavy_imports` pauses the cyclic collector for heavy imports only: it is back on after the
block (also when the block fails) and stays off where the caller had turned it off; what the
block made is frozen (never walked by a collection again); and a grading run that imported
torch under it leaves the collector on."""

from __future__ import annotations

import gc
import subprocess
import sys

import pytest

from dlgrade.core.imports import heavy_imports
from tests.support import ROOT


def test_the_collector_is_off_inside_and_restored_after() -> None:
    assert gc.isenabled()
    try:
        with heavy_imports():
            assert not gc.isenabled()
            made = [[i] for i in range(1000)]  # what an import leaves: frozen after the block
        assert gc.isenabled() and gc.get_freeze_count() >= len(made)
        with pytest.raises(ZeroDivisionError), heavy_imports():
            1 / 0  # noqa: B018
        assert gc.isenabled()
        gc.disable()
        with heavy_imports():
            pass
        assert not gc.isenabled()  # the caller's choice stands
    finally:
        gc.enable()
        gc.unfreeze()  # this test process's objects back under the collector


PROBE = """
import gc, sys
from dlgrade.core.manifest import load_course
from dlgrade.loop.grading import grade_submission
course = load_course(__import__("pathlib").Path(sys.argv[1]))
result = grade_submission(course, "reference", ["logsumexp"])
print(gc.isenabled(), "torch" in sys.modules, result.score == result.max_score)
"""


def test_grading_imports_torch_and_leaves_the_collector_on() -> None:
    command = [sys.executable, "-c", PROBE, str(ROOT)]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
    assert proc.stdout.split() == ["True", "True", "True"], proc.stderr[-2000:]
