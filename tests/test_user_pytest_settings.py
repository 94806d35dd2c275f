"""A user's own pytest settings never reach the graders' run.

`grade` runs pytest in its own process; PYTEST_ADDOPTS (a developer's `-rf`, `--basetemp`) and
PYTEST_PLUGINS in the environment used to make every exercise an engine error ("usage: pytest.main()").
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support import ROOT

GRADE = Path(sys.executable).with_name("grade")


def test_pytest_settings_in_the_environment_change_nothing(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PYTEST_ADDOPTS": f"-rf --durations=3 --basetemp={tmp_path / 'base'}",
        "PYTEST_PLUGINS": "no_such_plugin_anywhere",
    }
    proc = subprocess.run(
        [str(GRADE), "--submission", "reference", "--format", "json", "logsumexp"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    doc = json.loads(proc.stdout)
    assert doc["score"] == doc["max_score"] > 0, doc
