"""The result JSON of the contract (../shared/EXERCISES.md), with a schema_version."""

from __future__ import annotations

import json

from dlgrade.result import GradeResult


def render_json(result: GradeResult) -> str:
    return json.dumps(result.to_dict(), indent=2, allow_nan=False) + "\n"
