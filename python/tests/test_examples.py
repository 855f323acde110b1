"""python/examples/ runs, and shows what it says it shows."""

from __future__ import annotations

import re
import subprocess
import sys

from conftest import ROOT


def test_reverse_circuit_example(tmp_path):
    page = tmp_path / "reverse.html"
    script = ROOT / "python" / "examples" / "reverse_circuit.py"
    run = subprocess.run(
        [sys.executable, str(script), "--html", str(page)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
        check=True,
    )
    out = run.stdout
    assert "forward('abcd') = ['d', 'c', 'b', 'a']" in out
    assert "verify: 0 mismatches" in out
    assert "m0 -> a1.0     q       opp_idx#15" in out
    effects = dict(re.findall(r"^  (\S+)\s+KL (\d+\.\d+)$", out, flags=re.MULTILINE))
    assert set(effects) == {"a0.0", "m0", "a1.0"}
    assert float(effects["a1.0"]) > 0.1
    assert float(effects["a0.0"]) == float(effects["m0"]) == 0.0
    assert "<svg" in page.read_text(encoding="utf-8")
