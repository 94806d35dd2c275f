"""The "leaves its inputs unchanged" check every exercise gets, judged from its run's ledger.

No grader declares it: after the graders ran, each selected exercise whose checks sent a
tensor gets one more public check worth INPUTS_SHARE of its points (docs/grading.md), failed
when any call changed an argument, naming the argument, the call and the check.
"""

from __future__ import annotations

from dlgrade.engine.inputs import INPUTS_CHECK, INPUTS_HINT, INPUTS_SHARE, InputsLedger
from dlgrade.engine.session import CheckRecord, GradingSession


def add_inputs_checks(session: GradingSession) -> None:
    """Add each selected exercise's inputs check to the session's records (after the run)."""
    for e in session.selected:
        ledger = session.ledgers.get(e.id)
        records = [r for r in session.records.values() if r.exercise == e.id]
        key = f"{e.id}::{INPUTS_CHECK}"
        if ledger is None or not ledger.sent or not records:
            continue
        if key in session.records:
            session.internal_errors.append(f"{key}: a grader declares the check every exercise gets")
            continue
        weight = sum(r.weight for r in records) * INPUTS_SHARE / (1.0 - INPUTS_SHARE)
        session.records[key] = judge(e.id, ledger, records, weight, session.visibility)


def judge(
    exercise: str, ledger: InputsLedger, others: list[CheckRecord], weight: float, visibility: str | None
) -> CheckRecord:
    """The check's record: failed on a change; passed when calls were compared and another check
    of the exercise passed (leaving inputs alone is not worth points on its own); else not
    counted, with the message of the first public check that did not pass (its outcome too
    when no call returned: not started, could not be graded, ...)."""
    record = CheckRecord(
        exercise=exercise,
        name=INPUTS_CHECK,
        weight=weight,
        hidden=False,
        hint=INPUTS_HINT,
        nodeid="",
        hint_when=("modified",),
    )
    if visibility == "hidden":
        return record  # a public check: not run with the hidden ones only
    change = ledger.public or ledger.hidden
    if change:
        record.outcome, record.kind = "failed", "modified"
        record.public, record.secret = change, "an input was modified in place"
    elif ledger.judged and any(r.outcome == "passed" for r in others):
        record.outcome, record.public, record.secret = "passed", "", ""
    else:  # nothing to credit: say why, as the first public check that did not pass does
        first = next((r for r in others if not r.hidden and r.outcome not in ("passed", "deferred")), None)
        if first is None:
            record.public = record.secret = "not judged: no call returned normally"
        elif first.outcome in _STOPPED:  # no call returned: what stopped them
            record.outcome, record.kind = first.outcome, first.kind
            record.public, record.secret = first.public, first.secret
        else:
            record.public = f"not counted until another check passes ({first.public})"
            record.secret = "not counted until another check passes"
    return record


# What stops a student's call from returning (dlgrade.core.calls): not an answer to judge.
_STOPPED = ("not_started", "raised", "timeout", "crashed", "forbidden", "import_error", "not_run")
