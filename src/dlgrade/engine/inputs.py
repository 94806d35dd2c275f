"""Every call leaves its inputs unchanged: each tensor argument compared before and after the call.

Every call a check makes of a student's function comes back with its arguments as they were
after the call (`Call.args_after`); the grading process compares them with the arguments it
sent, which no student code can reach. A change (values, shape or dtype: `mul_`, `resize_`,
`unsqueeze_`, `-=`, `.data = ...`) is recorded in the ledger of the function's exercise, and
that exercise fails its "leaves its inputs unchanged" check (docs/grading.md); the check that
made the call judges the values it got as usual.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from dlgrade.core.calls import describe_call
from dlgrade.core.codec import dtype_name
from dlgrade.core.words import describe, fmt

INPUTS_CHECK = "leaves its inputs unchanged"
INPUTS_SHARE = 0.1  # of the exercise's points (docs/grading.md)
INPUTS_HINT = (
    "exercises must not change their arguments: use out-of-place operations "
    "(x * 2 instead of x.mul_(2), x = x - m instead of x -= m, x.unsqueeze(1) instead of x.unsqueeze_(1))"
)
_MAX_DEPTH = 8
_HOLDERS = (torch.Tensor, tuple, list, dict)


def has_tensor(value: Any, depth: int = 0) -> bool:
    """Whether `value` is or holds (in tuples, lists and dicts) a tensor."""
    if isinstance(value, torch.Tensor):
        return True
    if depth >= _MAX_DEPTH:
        return False
    if isinstance(value, tuple | list):
        items: Iterable[Any] = value
    elif isinstance(value, dict):
        items = value.values()
    else:
        return False
    # only a tensor or a container can answer yes: the numbers of a large argument (autodiff's
    # graphs of thousands of nodes) are passed over without a call each
    for v in items:  # noqa: SIM110 - a loop: faster than any() over a generator
        if isinstance(v, _HOLDERS) and has_tensor(v, depth + 1):
            return True
    return False


def tensor_change(before: torch.Tensor, after: Any) -> str:
    """'' if `after` equals `before` (NaN equal to NaN); else how it changed, in words."""
    if not isinstance(after, torch.Tensor):
        return f"it came back as {describe(after)}"
    if tuple(after.shape) != tuple(before.shape):
        return f"its shape changed from {tuple(before.shape)} to {tuple(after.shape)}"
    if after.dtype != before.dtype:
        return f"its dtype changed from {dtype_name(before.dtype)} to {dtype_name(after.dtype)}"
    b, a = before.detach().to("cpu"), after.detach().to("cpu")
    if torch.equal(a, b):  # the usual case, and the cheapest test
        return ""
    nan = b.is_floating_point() or b.is_complex()
    same = (a == b) | (a.isnan() & b.isnan()) if nan else a == b
    if bool(same.all()):
        return ""
    index = tuple(int(i) for i in (~same).nonzero()[0])
    where = f" at {list(index)}" if index else ""
    return f"its values changed: {fmt(a[index].item())}{where}, sent as {fmt(b[index].item())}"


def changes(before: Any, after: Any, name: str, depth: int = 0) -> Iterator[tuple[str, str]]:
    """(the argument's name, how it changed) for each tensor in `before` that `after` differs from."""
    if isinstance(before, torch.Tensor):
        how = tensor_change(before, after)
        if how:
            yield name, how
        return
    if depth >= _MAX_DEPTH or not has_tensor(before):
        return
    if isinstance(before, tuple | list):
        if not isinstance(after, tuple | list) or len(after) != len(before):
            yield name, f"it came back as {describe(after)}"
            return
        for i, (b, a) in enumerate(zip(before, after, strict=True)):
            yield from changes(b, a, f"{name}[{i}]", depth + 1)
    elif isinstance(before, dict):
        got = after if isinstance(after, dict) else {}
        for k, b in before.items():
            yield from changes(b, got.get(k), f"{name}[{k!r}]", depth + 1)


@functools.lru_cache(maxsize=256)
def _parameters(path: Path, fn: str) -> tuple[str, ...]:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return ()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == fn:
            return tuple(a.arg for a in [*node.args.posonlyargs, *node.args.args])
    return ()


def parameter_names(stub: Path, fn: str, n: int) -> tuple[str, ...]:
    """The names of `fn`'s first `n` parameters as its stub declares them ('argument 3' if not)."""
    names = _parameters(stub, fn)
    return tuple(names[i] if i < len(names) else f"argument {i + 1}" for i in range(n))


@dataclass
class InputsLedger:
    """What one exercise's calls did to their inputs during a grading run."""

    sent: bool = False  # a call with a tensor among its arguments was sent
    judged: int = 0  # such calls that returned normally, their inputs compared
    public: str = ""  # the first change seen in a public check, in words
    hidden: str = ""  # the first change seen in a hidden check, without its inputs

    def note_sent(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self.sent = self.sent or has_tensor(args) or has_tensor(kwargs)

    def note_returned(
        self,
        fn: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        after: tuple[tuple[Any, ...], dict[str, Any]],
        names: tuple[str, ...],
        check: tuple[str, bool],
    ) -> None:
        """Compare one returned call's arguments with what was sent; remember the first change."""
        if not (has_tensor(args) or has_tensor(kwargs)):
            return
        self.judged += 1
        if self.hidden if check[1] else self.public:
            return
        args_after, kwargs_after = after
        found = [
            *(c for i, a in enumerate(args) for c in changes(a, _item(args_after, i), names[i])),
            *(c for k, v in kwargs.items() for c in changes(v, kwargs_after.get(k), k)),
        ]
        if not found:
            return
        name, how = found[0]
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        if check[1]:
            self.hidden = f'{fn} changed its argument {name}{more} in place in the hidden check "{check[0]}"'
        else:
            call = describe_call(fn, args, kwargs)
            self.public = f'{call} changed its argument {name}{more} in place ({how}); check "{check[0]}"'


def _item(values: tuple[Any, ...], i: int) -> Any:
    return values[i] if i < len(values) else None
