"""Graders on GPU tensors: the same verdicts on `--device cuda` as on the CPU (a device check).

Usage: python bench/gpu_parity.py [--device cuda] [--per-topic N]

Grades the model solutions, the stubs and every known-wrong and right-but-different fixture
(tests/fixtures) twice, with the graders' inputs on the CPU and on DEVICE, in one process with
one sandbox, and prints every check whose verdict differs, each known-wrong fixture that loses
no points on DEVICE, and the time each device took. Needs a machine with that device; CI does
not run it (docs/performance.md, "Graders on a GPU").
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dlgrade.core.manifest import load_course  # noqa: E402
from dlgrade.core.result import GradeResult  # noqa: E402
from dlgrade.engine.runner import grade  # noqa: E402
from dlgrade.engine.sandboxes import course_sandbox  # noqa: E402
from tests.submissions import stub_copy  # noqa: E402
from tests.support import reference_copy, variants, with_appended  # noqa: E402


def verdicts(result: GradeResult) -> dict[str, tuple[str, bool]]:
    return {f"{e.id}: {c.name}": (c.outcome, c.passed) for e in result.exercises for c in e.checks}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--per-topic", type=int, default=0, help="grade only N fixtures of each topic")
    args = parser.parse_args()
    course = load_course(ROOT)
    box = course_sandbox(course)
    topic_of = {t.module: t.id for t in course.topics}
    spent = {"cpu": 0.0, args.device: 0.0}
    differences, kept, graded = [], [], 0
    with tempfile.TemporaryDirectory() as tmp:
        cases: list[tuple[str, Path, tuple[str, ...], tuple[str, ...]]] = [
            ("reference", reference_copy(course, Path(tmp) / "reference"), (), ()),
            ("stubs", stub_copy(course, Path(tmp) / "stubs"), (), ()),
        ]
        for i, v in enumerate(variants()):
            folder = with_appended(course, v.module, v.path, Path(tmp) / f"v{i}")
            cases.append((f"wrong/{v.module}/{v.path.stem}", folder, (topic_of[v.module],), v.loses))
        for path in sorted((ROOT / "tests" / "fixtures" / "right").glob("*/*.py")):
            module = path.parent.name
            folder = with_appended(course, module, path, Path(tmp) / f"r{len(cases)}")
            cases.append((f"right/{module}/{path.stem}", folder, (topic_of[module],), ()))
        if args.per_topic:
            seen: dict[str, int] = {}
            kept_cases = cases[:2]
            for case in cases[2:]:
                topic = case[2][0]
                seen[topic] = seen.get(topic, 0) + 1
                if seen[topic] <= args.per_topic:
                    kept_cases.append(case)
            cases = kept_cases
        for label, folder, names, loses in cases:
            results = {}
            for device in ("cpu", args.device):
                start = time.perf_counter()
                results[device] = grade(course, folder, names, sandbox=box, device=device)
                spent[device] += time.perf_counter() - start
            graded += 1
            on_cpu, on_device = verdicts(results["cpu"]), verdicts(results[args.device])
            for check in sorted(set(on_cpu) | set(on_device)):
                if on_cpu.get(check) != on_device.get(check):
                    was, now = on_cpu.get(check), on_device.get(check)
                    differences.append(f"{label}: {check}: cpu {was}, {args.device} {now}")
            score = {e.id: (e.score, e.max_score) for e in results[args.device].exercises}
            for exercise in loses:
                s, m = score.get(exercise, (0.0, 0.0))
                if s >= m:
                    kept.append(f"{label}: {exercise} full marks on {args.device}")
            if label == "reference":
                r = results[args.device]
                print(f"reference on {args.device}: {r.score}/{r.max_score}")
            if label == "stubs":
                statuses = {e.status for e in results[args.device].exercises}
                print(f"stubs on {args.device}: statuses {sorted(statuses)}")
    box.close()
    print(f"{graded} submissions; time grading: " + ", ".join(f"{d} {s:.1f} s" for d, s in spent.items()))
    print(f"{len(differences)} checks with a different verdict on {args.device}")
    for line in differences:
        print("  " + line)
    print(f"{len(kept)} known-wrong fixtures that keep full marks on {args.device}")
    for line in kept:
        print("  " + line)
    return 1 if differences or kept else 0


if __name__ == "__main__":
    sys.exit(main())
