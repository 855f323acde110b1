"""Programs the tests share, read from the repository (examples/ and the
compiler's paper programs) or written out here."""

from __future__ import annotations

import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]

REVERSE = """
flip = select(indices, length - indices - 1, ==);
reverse = aggregate(flip, tokens);
"""


@pytest.fixture(scope="session")
def reverse_source() -> str:
    return REVERSE


@pytest.fixture(scope="session")
def histogram_source() -> str:
    return (ROOT / "examples" / "histogram.rasp").read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def paper_source() -> str:
    return (ROOT / "crates" / "rasp-compile" / "tests" / "data" / "paper.rasp").read_text(
        encoding="utf-8"
    )


def words(vocab, max_len):
    """Every word of 1 to max_len tokens over vocab, shortest first."""
    out = [[]]
    every = []
    for _ in range(max_len):
        out = [w + [t] for w in out for t in vocab]
        every.extend(out)
    return every
