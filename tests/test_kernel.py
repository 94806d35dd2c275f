"""The kernel layer's parts on their own: the seccomp program, the read plan, the policy."""

from __future__ import annotations

import os
import struct
import sys
import tempfile
from pathlib import Path

import pytest

from dlgrade.sandbox import kernel, policy, seccomp
from dlgrade.sandbox.pool import Sandbox

LINUX = sys.platform.startswith("linux")


@pytest.mark.skipif(not seccomp.supported(), reason="no seccomp filter for this architecture")
def test_the_seccomp_program_assembles_with_every_jump_forward_and_in_range() -> None:
    code = seccomp.program(4242)
    assert len(code) % 8 == 0 and len(code) // 8 < 4096
    for i in range(0, len(code), 8):
        _op, jt, jf, _k = struct.unpack("HBBI", code[i : i + 8])
        assert i // 8 + 1 + max(jt, jf) <= len(code) // 8
    denied = seccomp.denied_names()
    for name in ("execve", "ptrace", "socket", "pidfd_send_signal", "unshare", "bpf", "io_uring_setup"):
        assert name in denied


def test_the_plan_reads_the_installation_and_never_the_course() -> None:
    plan = kernel.make_plan()
    root = Path(__file__).resolve().parents[1]
    assert any(os.path.realpath(sys.base_prefix) == os.path.realpath(r) for r in plan.read)
    assert kernel.exposed(plan.read, [str(root / "reference"), str(root / "graders")]) == []
    assert kernel.exposed(["/a/b"], ["/a/b/course/reference", "/a/bc/reference"]) == ["/a/b/course/reference"]


def test_installation_readable_by_others_follows_every_folder_on_the_way() -> None:
    with tempfile.TemporaryDirectory() as tmp:  # in the system's temporary folder, open to all
        top = Path(tmp)
        inner = top / "closed" / "python"
        inner.mkdir(parents=True)
        os.chmod(top, 0o755)
        os.chmod(top / "closed", 0o700)
        assert not kernel.installation_readable_by_others([str(inner)])
        os.chmod(top / "closed", 0o755)
        assert kernel.installation_readable_by_others([str(inner)])


def _box(missing: dict[str, str], read: list[str] | None = None) -> Sandbox:
    box = Sandbox([])
    box.isolation = {"layers": {}, "missing": missing}
    box.read_roots = read or []
    return box


def test_policy_refuses_under_require_and_warns_once_under_warn(capsys: pytest.CaptureFixture[str]) -> None:
    box = _box({"landlock": "the kernel offers no Landlock"})
    with pytest.raises(policy.ContainmentMissing, match="landlock: the kernel offers no Landlock"):
        policy.enforce(box, [], "require")
    policy.enforce(box, [], "warn")
    policy.enforce(box, [], "warn")
    assert capsys.readouterr().err.count("does not contain student code") == 1
    policy.enforce(_box({"identity": "not root"}), [], "require")  # identity is root's business only


def test_policy_refuses_a_course_inside_what_workers_read(tmp_path: Path) -> None:
    box = _box({}, read=[str(tmp_path)])
    with pytest.raises(policy.ContainmentMissing, match="workers can read"):
        policy.enforce(box, [str(tmp_path / "course" / "reference")], "require")


def test_the_environment_chooses_the_mode_unless_a_flag_does(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(policy.ENV, raising=False)
    assert policy.mode("require") == "require" and policy.mode() == "warn"
    monkeypatch.setenv(policy.ENV, "warn")
    assert policy.mode("require") == "warn"
    monkeypatch.setenv(policy.ENV, "nonsense")
    assert policy.mode("require") == "require"


@pytest.mark.skipif(not LINUX or kernel.landlock_abi() < 1, reason="needs Linux with Landlock")
def test_grade_doctor_tries_a_real_worker() -> None:
    from click.testing import CliRunner

    from dlgrade.cli.main import main

    result = CliRunner().invoke(main, ["doctor"])
    assert result.exit_code == 0, result.output
    assert "✓ landlock" in result.output and "✓ seccomp" in result.output
    assert "kernel containment: complete" in result.output
