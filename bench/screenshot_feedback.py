"""Render a real HTML feedback page and photograph it in a headless browser.

Usage: python bench/screenshot_feedback.py [--out docs/img/feedback.png] [--keep DIR]

It grades a partial submission with the real `grade` (the model solutions of two topics with a
known-wrong function appended to each, every other module a stub), writes the page that
`grade batch --feedback` writes for it (report.html.render_html), and runs Debian's chromium
(`apt-get install chromium`) headless to take a 1200x1600 screenshot. Look at the PNG: statuses
are coloured text badges (no emoji), points have at most two decimals, the header names the
course, the submission and the date. Exits 2 when chromium is missing.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GRADE = Path(sys.executable).with_name("grade")
# (module, known-wrong fixture appended to its model solution)
WRONG = (("stability", "clip_each_by_own_norm"), ("activations", "naive_tanh"))
TOPICS = ("stability", "activations", "tensors")  # tensors stays a stub: "not started"


def partial_submission(dest: Path) -> Path:
    shutil.copytree(ROOT / "exercises", dest, ignore=shutil.ignore_patterns("__pycache__"))
    for module, stem in WRONG:
        wrong = (ROOT / "mistakes" / module / f"{stem}.py").read_text()
        text = (ROOT / "reference" / f"{module}.py").read_text()
        (dest / f"{module}.py").write_text(text + "\n\n" + wrong)
    return dest


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img" / "feedback.png")
    parser.add_argument("--keep", type=Path, help="also keep the page and its JSON result here")
    args = parser.parse_args()
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        print("chromium is not installed (apt-get install -y chromium)", file=sys.stderr)
        return 2
    from dlgrade.report.html import render_html
    from dlgrade.report.json_report import read_result

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        folder = partial_submission(work / "s1234567")
        result_path = work / "result.json"
        cmd = [
            str(GRADE),
            *TOPICS,
            "--submission",
            str(folder),
            "--format",
            "json",
            "--output",
            str(result_path),
        ]
        subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
        page = work / "s1234567.html"
        page.write_text(render_html(read_result(result_path), submission="s1234567"), encoding="utf-8")
        shot = [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={work / 'profile'}",
            f"--screenshot={args.out.resolve()}",
            "--window-size=1200,1600",
            page.as_uri(),
        ]
        args.out.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(shot, check=True, capture_output=True, timeout=120)
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            shutil.copy(page, args.keep)
            shutil.copy(result_path, args.keep)
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
