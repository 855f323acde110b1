#!/usr/bin/env python3
"""Compare the `rasp` binary's REPL output with recorded transcripts.

Usage (from the repository root):

    python3 tests/conformance/compare.py target/release/rasp
    python3 tests/conformance/compare.py target/release/rasp tests/transcripts --diff

Every `NAME.in` in the given folders (default: tests/conformance and
tests/transcripts) is fed to the binary on standard input, with the folder as
the working directory and colours off; the standard output must equal
`NAME.out` line for line, under the rule in tests/conformance/README.md: a
line where the reference printed an ANTLR syntax-error report only needs the
same prompt and to say that it is an error or that the input is ignored.

Exit status: 0 when every case matches, 1 when some case differs, 2 on a
usage error. Python 3 standard library only.
"""

import argparse
import difflib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DIRS = [ROOT / "tests" / "conformance", ROOT / "tests" / "transcripts"]


def line_matches(expected, actual):
    """The comparison rule for one line."""
    if "antlr exception" in expected:
        prompt = expected.split("\t", 1)[0]
        low = actual.lower()
        return actual.startswith(prompt) and ("error" in low or "ignoring input" in low)
    return expected == actual


def first_difference(expected, actual):
    """None if the outputs match, else (line number, expected, actual)."""
    exp = expected.split("\n")
    act = actual.split("\n")
    for i, (e, a) in enumerate(zip(exp, act)):
        if not line_matches(e, a):
            return i + 1, e, a
    if len(exp) != len(act):
        n = min(len(exp), len(act))
        return (n + 1,
                exp[n] if n < len(exp) else "<end of output>",
                act[n] if n < len(act) else "<end of output>")
    return None


def run_case(binary, case, timeout):
    env = dict(os.environ, NO_COLOR="1", TERM="dumb")
    env.pop("FORCE_COLOR", None)
    with open(case, "rb") as stdin:
        done = subprocess.run([str(binary)], stdin=stdin, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, cwd=case.parent,
                              env=env, timeout=timeout)
    return done.stdout.decode("utf-8", errors="replace")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("binary", help="path to the rasp binary")
    ap.add_argument("dirs", nargs="*", help="folders of NAME.in/NAME.out cases")
    ap.add_argument("--diff", action="store_true", help="print a unified diff for each failing case")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds per case (default 60)")
    args = ap.parse_args()

    binary = Path(args.binary).resolve()
    if not binary.is_file():
        print(f"no such binary: {args.binary}", file=sys.stderr)
        return 2
    dirs = [Path(d).resolve() for d in args.dirs] or DEFAULT_DIRS
    cases = sorted(p for d in dirs for p in d.glob("*.in"))
    if not cases:
        print("no NAME.in files found", file=sys.stderr)
        return 2

    failed = 0
    for case in cases:
        label = f"{case.parent.name}/{case.stem}"
        expected = case.with_suffix(".out").read_text(encoding="utf-8")
        try:
            actual = run_case(binary, case, args.timeout)
        except subprocess.TimeoutExpired:
            failed += 1
            print(f"FAIL {label}: timed out after {args.timeout:g} s")
            continue
        diff = first_difference(expected, actual)
        if diff is None:
            print(f"ok   {label}")
            continue
        failed += 1
        line, e, a = diff
        print(f"FAIL {label}: line {line}\n  expected: {e!r}\n    actual: {a!r}")
        if args.diff:
            sys.stdout.writelines(difflib.unified_diff(
                expected.splitlines(True), actual.splitlines(True),
                fromfile=f"{label}.out", tofile="rasp output"))
            print()
    print(f"{len(cases) - failed} of {len(cases)} cases match")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
