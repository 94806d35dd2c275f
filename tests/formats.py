"""Validators for the CI formats: JUnit XML conventions and Gradescope's documented results.json."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

# JUnit conventions (Ant/Surefire schemas, as CI systems read them): elements and attributes.
JUNIT_SUITES_ATTRS = {"name", "time", "tests", "failures", "errors", "disabled"}
JUNIT_SUITE_ATTRS = {"name", "tests", "failures", "errors", "skipped", "time", "timestamp", "hostname", "id"}
JUNIT_SUITE_REQUIRED = {"name", "tests", "failures", "errors"}
JUNIT_CASE_ATTRS = {"name", "classname", "time", "assertions", "status"}
JUNIT_CASE_CHILDREN = {"skipped", "error", "failure", "system-out", "system-err"}

# Gradescope's autograder results.json, as documented ("Autograder Specifications").
GS_TOP = {
    "score",
    "execution_time",
    "output",
    "output_format",
    "test_output_format",
    "test_name_format",
    "visibility",
    "stdout_visibility",
    "extra_data",
    "tests",
    "leaderboard",
}
GS_TEST = {
    "score",
    "max_score",
    "status",
    "name",
    "name_format",
    "number",
    "output",
    "output_format",
    "tags",
    "visibility",
    "extra_data",
}
GS_VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}
GS_FORMATS = {"text", "html", "simple_format", "md", "ansi"}


def junit_problems(text: str) -> list[str]:
    root = ET.fromstring(text.encode("utf-8"))
    problems = []
    if root.tag != "testsuites" or set(root.attrib) - JUNIT_SUITES_ATTRS:
        problems.append(f"root {root.tag} {sorted(root.attrib)}")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for suite in root:
        if suite.tag != "testsuite":
            problems.append(f"unexpected {suite.tag} under testsuites")
            continue
        if JUNIT_SUITE_REQUIRED - set(suite.attrib) or set(suite.attrib) - JUNIT_SUITE_ATTRS:
            problems.append(f"testsuite attributes {sorted(suite.attrib)}")
        cases = suite.findall("testcase")
        counted = {"tests": len(cases), "failures": 0, "errors": 0, "skipped": 0}
        for case in cases:
            if "name" not in case.attrib or set(case.attrib) - JUNIT_CASE_ATTRS:
                problems.append(f"testcase attributes {sorted(case.attrib)}")
            tags = [child.tag for child in case]
            if set(tags) - JUNIT_CASE_CHILDREN:
                problems.append(f"testcase children {tags}")
            verdicts = [t for t in tags if t in ("failure", "error", "skipped")]
            if len(verdicts) > 1:
                problems.append(f"testcase with {verdicts}")
            counted["failures"] += tags.count("failure")
            counted["errors"] += tags.count("error")
            counted["skipped"] += tags.count("skipped")
        for key, n in counted.items():
            if int(suite.get(key, -1)) != n:
                problems.append(f"testsuite {suite.get('name')}: {key}={suite.get(key)}, counted {n}")
            if key in totals:
                totals[key] += n
    for key, n in totals.items():
        if int(root.get(key, -1)) != n:
            problems.append(f"testsuites {key}={root.get(key)}, counted {n}")
    return problems


def gradescope_problems(doc: dict[str, Any]) -> list[str]:
    problems = [f"unknown top-level field {k!r}" for k in doc if k not in GS_TOP]
    tests = doc.get("tests") or []
    scored = bool(tests) and all("score" in t for t in tests)  # then Gradescope totals the tests
    if not isinstance(doc.get("score"), int | float) and not ("score" not in doc and scored):
        problems.append("score must be a number (or absent, with a score on every test)")
    for key in ("output_format", "test_output_format", "test_name_format"):
        if key in doc and doc[key] not in GS_FORMATS:
            problems.append(f"{key} {doc[key]!r}")
    for key in ("visibility", "stdout_visibility"):
        if key in doc and doc[key] not in GS_VISIBILITY:
            problems.append(f"{key} {doc[key]!r}")
    for test in doc.get("tests", []):
        problems += [f"unknown test field {k!r}" for k in test if k not in GS_TEST]
        if not all(isinstance(test.get(k), int | float) for k in ("score", "max_score")):
            problems.append(f"test {test.get('name')!r}: score and max_score must be numbers")
        elif not 0 <= test["score"] <= test["max_score"]:
            problems.append(f"test {test.get('name')!r}: score outside 0..max_score")
        if test.get("status") not in ("passed", "failed") or test.get("visibility") not in GS_VISIBILITY:
            problems.append(f"test {test.get('name')!r}: status/visibility")
        if not isinstance(test.get("name"), str) or not isinstance(test.get("output"), str):
            problems.append("test name and output must be strings")
    return problems
