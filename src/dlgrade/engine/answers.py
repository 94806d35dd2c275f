"""The model solutions' answers, recorded at release time and replayed in a student bundle.

Every expected value reaches a grader through the `reference` fixture (an `Oracle`), and
the graders' inputs are seeded, so running the public checks once with the model solutions
behind a `RecordingOracle` asks every question those checks can ask. A bundle answers the
same questions from the recorded data with a `ReplayOracle`. Questions are keyed by a
digest of the topic module, the function and the exact inputs (moved to the CPU, so
`--device` does not change a key); answers are codec frames, plain data with no pickle.
A question that was never recorded raises `UnrecordedQuestion`: a grader error, never a pass.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import torch

from dlgrade.core import codec
from dlgrade.core.calls import Call, Request, describe_call
from dlgrade.engine.bundle import BundleError
from dlgrade.engine.oracle import Oracle

FORMAT = 1


class AnswerError(ValueError):
    """A question or an answer cannot be recorded as plain data, or two answers disagree."""


class UnrecordedQuestion(LookupError):
    """A grader asked the bundle's answer key something the release run never asked."""


def _tree_map(value: Any, fn: Callable[[torch.Tensor], torch.Tensor]) -> Any:
    if isinstance(value, torch.Tensor):
        return fn(value)
    if type(value) in (tuple, list):
        return type(value)(_tree_map(v, fn) for v in value)
    if type(value) is dict:
        return {k: _tree_map(v, fn) for k, v in value.items()}
    return value


def _first_device(value: Any) -> torch.device | None:
    if isinstance(value, torch.Tensor):
        return value.device
    items = value.values() if type(value) is dict else value if type(value) in (tuple, list) else ()
    return next((d for v in items if (d := _first_device(v)) is not None), None)


def _opaque_in(value: Any) -> str | None:
    """The type name of the first part of `value` that did not survive the codec, if any."""
    if isinstance(value, codec.Opaque):
        return value.type_name
    items = value.values() if isinstance(value, dict) else value if isinstance(value, tuple | list) else ()
    return next((name for v in items if (name := _opaque_in(v)) is not None), None)


def plain_frame(value: Any, what: str) -> bytes:
    """`value` as a codec frame, refusing anything the codec could only send as opaque."""
    frame = codec.encode(value)
    opaque = _opaque_in(codec.decode(frame))
    if opaque is not None:
        raise AnswerError(f"{what} holds {opaque}, which cannot be recorded as plain data")
    return frame


def question_key(module: str, kind: str, name: str, payload: Any) -> str:
    """A stable digest of one question: where it is asked, what, and the exact inputs."""
    cpu = _tree_map(payload, lambda t: t.detach().to("cpu"))
    frame = plain_frame(cpu, f"the question {module}.{name}")
    return hashlib.sha256(f"{module}\0{kind}\0{name}\0".encode() + frame).hexdigest()


@dataclass
class AnswerBook:
    """Question key -> answer frame; saved as JSON with the frames in base64."""

    answers: dict[str, bytes] = field(default_factory=dict)

    def put(self, key: str, value: Any, what: str) -> None:
        frame = plain_frame(_tree_map(value, lambda t: t.detach().to("cpu")), what)
        known = self.answers.setdefault(key, frame)
        if known != frame:
            raise AnswerError(f"{what} gave two different answers to the same question")

    def get(self, key: str) -> Any:
        """The answer, decoded afresh (so no grader shares tensors with another); KeyError if none."""
        return codec.decode(self.answers[key])

    def to_json(self) -> str:
        body = {k: base64.b64encode(self.answers[k]).decode("ascii") for k in sorted(self.answers)}
        return json.dumps({"format": FORMAT, "answers": body}, indent=0) + "\n"

    @classmethod
    def load(cls, path: Path) -> AnswerBook:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") != FORMAT:
                raise ValueError(f"format {data.get('format')!r} is not {FORMAT}")
            answers = {str(k): base64.b64decode(v, validate=True) for k, v in data["answers"].items()}
        except FileNotFoundError:
            raise BundleError(f"{path}: the bundle's recorded answers are missing") from None
        except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError, binascii.Error) as exc:
            raise BundleError(f"{path}: not a valid answers file: {exc}") from None
        return cls(answers)


def _grad_payload(r: Request) -> Any:
    return {
        "args": list(r.args),
        "kwargs": r.kwargs,
        "wrt": list(r.wrt),
        "grad_output": r.grad_output,
        "output": r.output,
    }


def _call_record(call: Call) -> dict[str, Any]:
    return {
        "value": call.value,
        "args_after": list(call.args_after),
        "kwargs_after": call.kwargs_after,
        "grads": list(call.grads),
    }


class RecordingOracle(Oracle):
    """The model solutions, writing every question and answer into an AnswerBook."""

    def __init__(self, module: ModuleType, topic: str, book: AnswerBook) -> None:
        super().__init__(module)
        self._topic = topic
        self._book = book

    def __getattr__(self, name: str) -> Any:
        value = super().__getattr__(name)
        if not callable(value):
            self._book.put(question_key(self._topic, "attr", name, None), value, f"reference.{name}")
            return value

        def ask(*args: Any, **kwargs: Any) -> Any:
            key = question_key(self._topic, "call", name, {"args": list(args), "kwargs": kwargs})
            answer = value(*args, **kwargs)
            self._book.put(key, answer, f"reference.{name}")
            return answer

        return ask

    def gradient(self, fn: str, request: Request) -> Call:
        key = question_key(self._topic, "grad", fn, _grad_payload(request))
        call = super().gradient(fn, request)
        self._book.put(key, _call_record(call), f"reference.grad({fn})")
        return call


class ReplayOracle(Oracle):
    """Answers the questions a RecordingOracle recorded; anything else is UnrecordedQuestion."""

    def __init__(self, book: AnswerBook, topic: str) -> None:  # no module: none ships
        self._book = book
        self._topic = topic

    def _answer(self, kind: str, name: str, payload: Any, asked: str) -> Any:
        try:
            answer = self._book.get(question_key(self._topic, kind, name, payload))
        except KeyError:
            raise UnrecordedQuestion(
                f"the bundle's answer key has no answer to {asked}: this grader asked a question "
                "that the release did not record (tell your instructor; `grade release` must be rerun)"
            ) from None
        device = _first_device(payload)
        if device is not None and device.type != "cpu":
            answer = _tree_map(answer, lambda t: t.to(device))
        return answer

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._book.get(question_key(self._topic, "attr", name, None))
        except KeyError:
            pass

        def ask(*args: Any, **kwargs: Any) -> Any:
            payload = {"args": list(args), "kwargs": kwargs}
            return self._answer("call", name, payload, describe_call(name, args, kwargs))

        return ask

    def gradient(self, fn: str, request: Request) -> Call:
        asked = f"the gradient of {describe_call(fn, request.args, request.kwargs)}"
        got = self._answer("grad", fn, _grad_payload(request), asked)
        return Call(
            value=got["value"],
            args_after=tuple(got["args_after"]),
            kwargs_after=dict(got["kwargs_after"]),
            grads=tuple(got["grads"]),
        )
