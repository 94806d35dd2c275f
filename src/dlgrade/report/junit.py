"""JUnit XML for CI test views: one testsuite per topic, one testcase per check.

Follows the common JUnit conventions (Ant/Surefire, as CI systems read them): `failure` for a
check that ran and gave a wrong answer, `error` for a crash, timeout, forbidden call or import
failure. Hidden checks' messages are withheld: CI logs are often public.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from dlgrade.core.printable import lines
from dlgrade.core.result import CheckResult, ExerciseResult, GradeResult, points_sum, score_text

HIDDEN_MESSAGE = "hidden check failed (details withheld)"
_ERROR_OUTCOMES = frozenset({"raised", "timeout", "crashed", "forbidden", "import_error", "internal"})
# Checks that did not run here by design: a student bundle's hidden checks. JUnit readers
# show them as skipped, not as failed. ("not_run" is not among them: it means the exercise's
# process kept dying before the check's turn, which is the student's error.)
_SKIPPED_OUTCOMES = frozenset({"deferred"})
# Characters XML 1.0 cannot carry, even escaped (student messages may hold any of them).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def clean(text: str) -> str:
    return lines(_NOT_XML.sub("\ufffd", text))


def _points(score: float, max_score: float) -> str:
    return score_text(score, max_score)


def _verdict(e: ExerciseResult, c: CheckResult) -> tuple[str, str, str] | None:
    """(element, type, message) for a check that lost its points; None when it passed."""
    if c.passed:
        return None
    if c.outcome in _SKIPPED_OUTCOMES:
        return "skipped", c.outcome, c.message or c.outcome.replace("_", " ")
    element = "error" if c.outcome in _ERROR_OUTCOMES else "failure"
    if c.visibility == "hidden":
        return element, c.outcome, HIDDEN_MESSAGE
    message = c.message or e.message or c.outcome.replace("_", " ")
    return element, c.outcome, message


def _testcase(parent: ET.Element, e: ExerciseResult, c: CheckResult) -> str | None:
    case = ET.SubElement(parent, "testcase", classname=f"{e.topic}.{e.id}", name=clean(c.name))
    verdict = _verdict(e, c)
    if verdict is not None:
        element, kind, message = verdict
        node = ET.SubElement(case, element, type=kind, message=clean(message))
        if c.visibility == "public" and c.hint:
            node.text = clean(f"{message}\nHint: {c.hint}")
        if e.mistake and c.outcome == "failed" and c.visibility == "public":  # a known mistake (public only)
            node.text = clean(f"{node.text or message}\n{e.mistake_text()}")
    out = ET.SubElement(case, "system-out")
    out.text = f"{c.visibility} check, points {_points(c.score, c.max_score)}"
    return verdict[0] if verdict else None


def _suite(root: ET.Element, topic: str, exercises: list[ExerciseResult]) -> tuple[int, int, int, int]:
    suite = ET.SubElement(root, "testsuite", name=topic)
    props = ET.SubElement(suite, "properties")
    score = points_sum(e.score for e in exercises)
    max_score = points_sum(e.max_score for e in exercises)
    ET.SubElement(props, "property", name="points", value=_points(score, max_score))
    for e in exercises:
        ET.SubElement(props, "property", name=f"{e.id}.status", value=e.status)
    tests = failures = errors = skipped = 0
    for e in exercises:
        for c in e.checks:
            kind = _testcase(suite, e, c)
            tests += 1
            failures += kind == "failure"
            errors += kind == "error"
            skipped += kind == "skipped"
    suite.set("tests", str(tests))
    suite.set("failures", str(failures))
    suite.set("errors", str(errors))
    suite.set("skipped", str(skipped))
    return tests, failures, errors, skipped


def render_junit(result: GradeResult) -> str:
    root = ET.Element("testsuites", name=clean(f"dlgrade: {result.course or 'course'}"))
    by_topic: dict[str, list[ExerciseResult]] = {}
    for e in result.exercises:
        by_topic.setdefault(e.topic, []).append(e)
    totals = [0, 0, 0, 0]  # tests, failures, errors, skipped (only per suite in the schema)
    for topic, exercises in by_topic.items():
        for i, n in enumerate(_suite(root, topic, exercises)):
            totals[i] += n
    root.set("tests", str(totals[0]))
    root.set("failures", str(totals[1]))
    root.set("errors", str(totals[2]))
    root.set("time", f"{result.duration_s:.3f}")
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
