"""The Python examples of README.md and python/README.md run, and every
line whose comment is a Python literal evaluates to it."""

from __future__ import annotations

import ast
import re

import pytest
from conftest import ROOT


def python_blocks(path):
    text = path.read_text(encoding="utf-8")
    return re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)


def checked_lines(block):
    """(expression, check) for lines `EXPR  # LITERAL` (the value must equal
    the literal) and `print(ARGS)  # TEXT` (TEXT starts with what it prints)."""
    for line in block.splitlines():
        code, _, comment = line.partition("  # ")
        code, comment = code.strip(), comment.strip()
        if not comment or not code or "=" in code.split("(")[0]:
            continue
        if code.startswith("print(") and code.endswith(")"):
            args = "(" + code[len("print(") : -1] + ",)"
            yield args, lambda values, text=comment: text.startswith(" ".join(map(str, values)))
            continue
        try:
            expected = ast.literal_eval(comment)
        except (ValueError, SyntaxError):
            continue
        yield code, lambda value, expected=expected: value == expected


@pytest.mark.parametrize("readme", ["README.md", "python/README.md"])
def test_readme_examples(readme, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    blocks = python_blocks(ROOT / readme)
    assert blocks, f"{readme} has no Python example"
    checked = 0
    for block in blocks:
        namespace: dict = {}
        exec(compile(block, readme, "exec"), namespace)  # noqa: S102 (the README's own code)
        for code, check in checked_lines(block):
            assert check(eval(code, namespace)), code
            checked += 1
    assert checked >= 3, f"only {checked} lines of {readme} state their value"
    assert (tmp_path / "out" / "reverse" / "model.json").is_file()
