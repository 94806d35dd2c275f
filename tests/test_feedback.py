"""Student text in feedback: capped, and withheld where it quotes the course's private files."""

from __future__ import annotations

from pathlib import Path

from dlgrade.core.manifest import Course
from dlgrade.engine import feedback
from dlgrade.engine.runner import grade
from tests.support import reference_copy


def test_a_quote_of_the_model_solution_is_withheld(course: Course) -> None:
    lines = (course.reference_dir() / "batchnorm.py").read_text().splitlines()
    quote = next(line for line in lines if len(line.strip()) > 40 and "def " not in line)
    assert feedback.clean(f"ValueError: {quote} ... more", course) == feedback.WITHHELD


def test_the_students_own_words_and_the_stubs_pass_capped(course: Course) -> None:
    assert feedback.clean("size mismatch: (3, 4) vs (4, 3)", course) == "size mismatch: (3, 4) vs (4, 3)"
    stub = (course.exercises_dir() / "stability.py").read_text()
    signature = next(line for line in stub.splitlines() if line.startswith("def "))
    assert feedback.clean(signature, course) == signature  # public text is not private
    assert len(feedback.clean("x" * 5000, course)) == feedback.MAX_CHARS


def test_prints_are_shown_with_a_public_failure_and_never_with_a_hidden_one(
    course: Course, tmp_path: Path
) -> None:
    folder = reference_copy(course, tmp_path / "sub")
    with (folder / "stability.py").open("a") as f:
        f.write(
            "\n\ndef logsumexp(x, dim=-1, keepdim=False):\n"
            "    print('my shape is', tuple(x.shape))\n"
            "    return x.sum()\n"
        )
    ex = grade(course, folder, ["logsumexp"]).exercises[0]
    public = [c for c in ex.checks if c.visibility == "public" and not c.passed]
    hidden = [c for c in ex.checks if c.visibility == "hidden"]
    assert public and all("your code printed: my shape is" in c.message for c in public)
    assert hidden and not any("printed" in c.message for c in hidden)


def test_a_print_flood_is_not_an_error(course: Course, tmp_path: Path) -> None:
    folder = reference_copy(course, tmp_path / "sub")
    with (folder / "stability.py").open("a") as f:
        f.write(
            "\n_ref = logsumexp\n\n"
            "def logsumexp(x, dim=-1, keepdim=False):\n"
            "    for _ in range(40):\n"
            "        print('x' * 65536)\n"
            "    return _ref(x, dim, keepdim)\n"
        )
    ex = grade(course, folder, ["logsumexp"]).exercises[0]
    assert ex.status == "passed", [c.message for c in ex.checks if not c.passed]
