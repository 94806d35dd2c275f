"""Which exercises' calls run under the guards' torch function mode, and why.

The mode (`guards._watch`) sees every torch function, method and operator a call reaches,
however it was reached; it costs about 2 µs per torch operation (docs/performance.md), which
doubles a training loop. Everywhere else the forbidden callables are guarded by the zygote's
wrappers alone, which cost an allowed torch operation nothing.
"""

from __future__ import annotations

import functools

from dlgrade.core.rule_sets import Rules
from dlgrade.sandbox.resolve import resolve


@functools.lru_cache(maxsize=128)
def watch_reason(rules: Rules) -> str:
    """Why a call under `rules` needs the torch function mode ('' when it does not).

    A wrapper replaces a callable wherever a torch module or torch.Tensor holds it, so it
    sees every route that names the callable or reaches it through torch's Python code. It
    misses two kinds of route, and an exercise needs the mode exactly when its rules meet one:

    - a call-count bound: a count is exact only when every route to the function is counted;
    - a forbidden `torch.Tensor` operator or dunder (`torch.Tensor.__matmul__`, `__iter__`):
      `a @ b` and `for row in a` reach them through the type's C slots, which no rule names.

    Not a reason: the C homes of forbidden functions (`torch._C._linalg`, `torch._VF`,
    `torch._C._VariableFunctions`), private names refused in the source by the `sandbox` rule
    set and, built at run time, by the look-up guards (`lookups.py`); the methods of the C
    base `torch._C.TensorBase` (an immutable type no wrapper can change), which
    `super(torch.Tensor, x).inverse` reaches: refused in the source by name (a forbidden
    Tensor method on any object), a computed name is refused in the source, and a look-up on
    such a `super` at run time counts as a call of the method (`lookups.py`); Python
    functions and classes (`torch.Tensor.backward`, `torch.nn.init.*`, `torch.enable_grad`),
    wrapped where they are defined, so torch's own code that calls them is caught too; the
    autograd engine, which a `no_autograd` call meets with grad mode off, mode or not.
    """
    counted = sorted(rules.call_counts())
    if counted:
        return f"counts calls of {counted[0]}: a count is exact only when every route is seen"
    import torch  # the grading process has it already

    for pattern in sorted(rules.forbidden_calls()):
        for owner, attr, dotted in resolve(pattern):
            if owner is torch.Tensor and attr.startswith("__") and attr.endswith("__"):
                return f"forbids {dotted}: an operator reaches it through the type's C slot"
    return ""


def needs_watch(rules: Rules) -> bool:
    """Whether a call under `rules` runs with the torch function mode pushed (see watch_reason)."""
    return bool(watch_reason(rules))
