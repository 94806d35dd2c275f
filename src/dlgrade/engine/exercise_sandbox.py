"""The worker for one exercise, as the grading process drives it: calls in, plain data or errors out.

`ExerciseSandbox.call` sends one call of the student's function to the exercise's worker and
turns the reply into a `Call` or a `StudentError` (dlgrade.core.calls); `calls` pipelines
several. A worker that dies is replaced (at most MAX_RESPAWNS times); a timeout stops the
exercise's later calls.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from dlgrade.core.calls import (
    Abandoned,
    Call,
    Crashed,
    Forbidden,
    ImportFailed,
    NotRun,
    NotStarted,
    Raised,
    Request,
    StudentError,
    TimedOut,
    describe_call,
)
from dlgrade.core.manifest import Course, Exercise
from dlgrade.engine import feedback, violations
from dlgrade.engine.inputs import InputsLedger, parameter_names
from dlgrade.sandbox.handle import Sender, Worker, WorkerDied, WorkerSpec, printed_lines
from dlgrade.sandbox.pool import Sandbox, SandboxBroken, SandboxError
from dlgrade.sandbox.watch_plan import needs_watch

MAX_RESPAWNS = 2
PRINTED_CHARS = 200  # of what a check's calls printed, shown with its failure


@dataclass
class ExerciseSandbox:
    """The worker for one exercise: spawned on first use, replaced after a crash, closed at the end."""

    sandbox: Sandbox
    course: Course
    exercise: Exercise
    folder: str
    import_failures: dict[str, str]
    device: str = "cpu"
    _worker: Worker | None = None
    _respawns: int = 0
    _timed_out: str = ""
    _pipeline: Sender | None = None  # a pipeline's sender while answers are still due
    printed: list[str] = field(default_factory=list)  # what the calls of the current check printed
    printed_lines: int = 0  # how many lines they printed (the workers' counts, validated)
    # What the calls did to their inputs, by exercise (engine.inputs), shared by the run's boxes;
    # and the check making the calls now: (name, hidden).
    ledgers: dict[str, InputsLedger] = field(default_factory=dict)
    check: tuple[str, bool] = ("", False)
    _arg_names: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # The current check's calls that returned: (fn, request, what came back), for a diagnosis
    # of a failure (engine.diagnosis); cleared when a check starts, like `printed`.
    log: list[tuple[str, Request, Call]] = field(default_factory=list)
    _rule_messages: dict[str, dict[str, Any]] = field(default_factory=dict)  # by rules key

    @staticmethod
    def spec_for(exercise: Exercise, folder: str, device: str = "cpu") -> WorkerSpec:
        return WorkerSpec(folder, exercise.module, exercise.memory_limit_mb, device=device)

    def _ensure_worker(self) -> Worker:
        if self._pipeline is not None:
            self._abandon_pipeline()
        module = self.exercise.module
        if module in self.import_failures:
            raise ImportFailed(self.import_failures[module])
        if self._timed_out:
            raise NotRun(f"not run: an earlier call of {self._timed_out} ran out of time")
        if self._worker is not None and self._worker.alive:
            return self._worker
        if self._worker is not None:  # the last worker died during a call
            if self._respawns >= MAX_RESPAWNS:
                raise NotRun(
                    f"not run: the process running {self.exercise.id} ended {self._respawns + 1} times"
                )
            self._respawns += 1
        try:
            spec = self.spec_for(self.exercise, self.folder, self.device)
            worker = self.sandbox.spawn(spec, self.exercise.id)
            hello = worker.hello(self.exercise.time_limit)
        except WorkerDied as exc:
            reason = f"{module}.py did not finish importing: it {exc.reason}"
            self.import_failures[module] = reason
            raise ImportFailed(reason) from None
        except SandboxBroken as exc:
            raise Abandoned(self.exercise.id, str(exc)) from None
        if worker.isolation:  # from trusted code in the worker, before the student's import
            self.sandbox.isolation = dict(worker.isolation)
        could_not = {"confine_error": "confine itself", "device_error": f"use {self.device}"}
        failed = could_not.get(str(hello.get("kind")))
        if failed:  # the engine's failure, not the student's code
            worker.close()
            raise SandboxError(f"a worker could not {failed}: {hello.get('message', '')}")
        if hello.get("kind") != "ready":
            output = str(hello.get("output", "")).strip()
            said = f" (it printed: {output.splitlines()[-1][:120]})" if output else ""
            message = str(hello.get("message", "unknown error"))
            reason = feedback.clean(f"{module}.py failed to import: {message}{said}", self.course)
            self.import_failures[module] = reason
            worker.close()
            raise ImportFailed(reason)
        self._worker = worker
        return worker

    def _request(self, fn: str, r: Request) -> dict[str, Any]:
        key = self._rules_key(fn)
        if key not in self._rule_messages:
            rules = self._rules_for(fn)
            self._rule_messages[key] = {
                "forbid": rules.forbidden_calls(),
                "bounds": {k: list(v) for k, v in rules.call_counts().items()},
                "watch": needs_watch(rules),
            }
        return {
            "op": "call",
            "fn": fn,
            "args": list(r.args),
            "kwargs": r.kwargs,
            "rules_key": key,
            "rules": self._rule_messages[key],  # sent with the worker's first call of the key only
            "wrt": list(r.wrt),
            "grad_output": r.grad_output,
            "output": r.output,
        }

    def _died(self, fn: str, exc: WorkerDied) -> StudentError:
        if exc.timed_out:
            self._timed_out = fn
            return TimedOut(fn, exc.reason, printed=exc.printed)
        return Crashed(fn, exc.reason)

    def call(
        self,
        fn: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        wrt: tuple[int, ...] = (),
        grad_output: Any = None,
        output: int | None = None,
    ) -> Call:
        self._ledger(fn).note_sent(args, kwargs)
        worker = self._ensure_worker()
        r = Request(args, kwargs, wrt, grad_output, output)
        try:
            reply, reports = worker.request(self._request(fn, r), self.exercise.time_limit)
        except WorkerDied as exc:
            raise self._died(fn, exc) from None
        except SandboxBroken as exc:
            raise Abandoned(fn, str(exc)) from None
        result = self._interpret(fn, args, kwargs, reply, reports)
        self.log.append((fn, r, result))
        return result

    def calls(self, fn: str, requests: Sequence[Request]) -> Iterator[Call]:
        """The calls of `requests`, in order, as `call` would return or raise them one by one.

        They are sent at once (a pipeline): the worker runs the next while the grader judges
        the last. The verdicts are those of one-by-one calls: the answers are read in order,
        each within the time limit, and the first error is raised where it happened; the calls
        sent after it have no effect on any verdict (their worker is replaced, unpaid).
        """
        if len(requests) <= 1:
            for r in requests:
                yield self.call(fn, r.args, r.kwargs, r.wrt, r.grad_output, r.output)
            return
        for r in requests:
            self._ledger(fn).note_sent(r.args, r.kwargs)
        worker = self._ensure_worker()
        self._pipeline = worker.pipeline([self._request(fn, r) for r in requests])
        for i, r in enumerate(requests):
            try:
                reply, reports = worker.receive(self.exercise.time_limit)
            except WorkerDied as exc:
                self._pipeline = None
                raise self._died(fn, exc) from None
            except SandboxBroken as exc:
                self._pipeline = None
                raise Abandoned(fn, str(exc)) from None
            if i == len(requests) - 1:
                self._pipeline = None
            result = self._interpret(fn, r.args, r.kwargs, reply, reports)
            self.log.append((fn, r, result))
            yield result

    def _abandon_pipeline(self) -> None:
        """A pipeline stopped early (an error, a failed check): its worker still owes answers,
        so it is replaced; that is the engine's doing, not a crash of the student's code."""
        sender, self._pipeline = self._pipeline, None
        if self._worker is not None and self._worker.alive:
            self._worker.close()
        self._worker = None
        if sender is not None:
            sender.join(timeout=10)

    def _ledger(self, fn: str) -> InputsLedger:
        """The ledger of `fn`'s own exercise (a backward's check may call its forward), else this one's."""
        if fn not in self.ledgers and fn != self.exercise.id:
            known = any(e.id == fn for e in self.course.exercises)
            return self.ledgers.setdefault(fn if known else self.exercise.id, InputsLedger())
        return self.ledgers.setdefault(fn, InputsLedger())

    def _rules_key(self, fn: str) -> str:
        """The exercise whose rules a call of `fn` is under: its own, else this one's (a helper)."""
        try:
            return self.course.exercise(fn).id
        except KeyError:
            return self.exercise.id

    def _rules_for(self, fn: str) -> Any:
        return self.course.exercise(self._rules_key(fn)).rules

    def _interpret(
        self,
        fn: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        reply: dict[str, Any],
        reports: list[dict[str, Any]],
    ) -> Call:
        kind = reply.get("kind")
        self.printed_lines += printed_lines(reply.get("printed_lines"))
        printed = str(reply.get("printed", "")).strip()
        if printed:
            self.printed.append(feedback.clean(printed, self.course, limit=PRINTED_CHARS))
        rules = self._rules_for(fn)
        breach = violations.first(reply, reports, rules.forbidden_calls(), rules.call_counts())
        if breach is not None:  # in the grader's words; the worker only named the rule
            detail = feedback.clean(breach.detail, self.course)
            raise Forbidden(fn, detail, breach.where, breach.why, hidden=breach.hidden)
        if kind == "forbidden":  # a rule this call does not have: the worker lied
            raise Crashed(fn, "broke the protocol (reported breaking no rule of this call)")
        if kind == "ok":
            after = reply.get("inputs")
            if not (isinstance(after, list) and len(after) == 2):
                after = [(), {}]
            args_after = tuple(after[0]) if isinstance(after[0], tuple | list) else ()
            kwargs_after = dict(after[1]) if isinstance(after[1], dict) else {}
            names = self._names(fn, len(args))
            self._ledger(fn).note_returned(fn, args, kwargs, (args_after, kwargs_after), names, self.check)
            return Call(
                value=reply.get("value"),
                args_after=args_after,
                kwargs_after=kwargs_after,
                grads=tuple(reply.get("grads") or ()),
                detached=bool(reply.get("detached")),
                grad_error=str(reply.get("grad_error", "")),
            )
        where = _where(reply)
        if kind == "unreadable":  # the worker could not decode the call: the engine's failure
            raise SandboxError(f"the sandbox could not read a call of {fn}")
        if kind == "not_implemented":
            raise NotStarted(fn, where)
        if kind == "missing":  # the grader's words: the worker's may not reach a hidden check
            raise ImportFailed(f"{fn} is not defined in {self.exercise.module}.py")
        call = describe_call(fn, args, kwargs)
        if kind == "exit":
            kind_of_exit = feedback.clean(str(reply.get("type", "SystemExit")), self.course, limit=80)
            raise Raised(fn, call, kind_of_exit, "graded code must return, not exit", where)
        if kind == "raised":
            raise Raised(
                fn,
                call,
                feedback.clean(str(reply.get("type", "Exception")), self.course, limit=80),
                feedback.clean(str(reply.get("message", "")), self.course),
                where,
            )
        raise Crashed(fn, "sent a reply the grader does not understand")

    def _names(self, fn: str, n: int) -> tuple[str, ...]:
        """The names of `fn`'s first `n` parameters, from its stub (read once per run)."""
        key = f"{fn}/{n}"
        if key not in self._arg_names:
            try:
                module = self.course.exercise(fn).module
            except KeyError:
                module = self.exercise.module
            self._arg_names[key] = parameter_names(self.course.exercises_dir() / f"{module}.py", fn, n)
        return self._arg_names[key]

    def close(self) -> None:
        if self._pipeline is not None:
            self._abandon_pipeline()
        if self._worker is not None:
            self._worker.close()
            self._worker = None


def _where(reply: dict[str, Any]) -> str:
    """A reply's 'file.py:LINE', or '' for anything else the worker put there."""
    where = reply.get("where")
    return where if type(where) is str and violations.WHERE.fullmatch(where) else ""
