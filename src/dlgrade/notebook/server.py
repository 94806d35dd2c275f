"""The grading process behind notebook check cells: one JSON request per line in, one result out.

A notebook kernel has run the student's cells, which may have changed torch's defaults,
patched modules or left threads behind, so `dlgrade.notebook.cells` does not grade there: it
starts this process before any student cell runs and sends it requests
`{"id": 1, "folder": "/tmp/...", "exercises": ["stable_softmax"], "visibility": "public"}`
(`visibility` null: every check; `"exercise": "stable_softmax"` names one exercise too).
`dlgrade.nbgrader.autograde` uses it in the same way from nbgrader's own process.
Each answer is one line, `{"id": 1, "result": {...}}` with
`GradeResult.to_dict()`, or `{"id": 1, "error": "one line"}`. Grading is `dlgrade.engine.runner.grade`
with one sandbox kept warm between requests. The process exits when its input closes.

Usage: python -I -m dlgrade.notebook.server COURSE_ROOT
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from dlgrade.core.manifest import Course, load_course
from dlgrade.engine.sandboxes import course_sandbox
from dlgrade.sandbox.pool import Sandbox


def main(argv: list[str]) -> int:
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # anything else that prints goes to the log, never between the replies
    course = load_course(Path(argv[0]))
    box = course_sandbox(course)  # its zygote imports torch meanwhile
    from dlgrade.core.imports import heavy_imports

    with heavy_imports():
        import dlgrade.engine.runner  # noqa: F401 - torch and pytest, before the first request waits for them

    for line in sys.stdin:
        replies.write(json.dumps(answer(course, box, line)) + "\n")
        replies.flush()
    return 0


def answer(course: Course, box: Sandbox, line: str) -> dict[str, Any]:
    """The reply to one request line; any failure becomes a one-line `error`."""
    from dlgrade.engine.runner import grade

    request: dict[str, Any] = {}
    try:
        parsed = json.loads(line)
        if not isinstance(parsed, dict):
            raise ValueError("a request is one JSON object per line")
        request = parsed
        folder = Path(request["folder"])
        visibility = request.get("visibility")
        if visibility not in (None, "public", "hidden"):
            raise ValueError(f"visibility must be public, hidden or null, not {visibility!r}")
        names = request["exercises"] if "exercises" in request else [request["exercise"]]
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            raise ValueError("exercises must be a non-empty list of exercise ids")
        result = grade(course, folder, names, label="notebook", sandbox=box, visibility=visibility)
        return {"id": request.get("id"), "result": result.to_dict()}
    except Exception as exc:
        return {"id": request.get("id"), "error": f"{type(exc).__name__}: {exc}".splitlines()[0]}


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
