"""rasp.run and rasp.Program: values as the interpreter computes them,
checked against answers worked out by hand."""

from __future__ import annotations

import gc
import os
import re
import threading
import time

import pytest
from conftest import ROOT

import rasp


def test_version_is_the_workspace_version():
    cargo = (ROOT / "Cargo.toml").read_text(encoding="utf-8")
    workspace_version = re.search(r'^version = "([^"]+)"', cargo, flags=re.MULTILINE).group(1)
    assert rasp.__version__ == workspace_version


def test_reverse_hello(reverse_source):
    assert rasp.run(reverse_source, "reverse", "hello") == ["o", "l", "l", "e", "h"]


def test_histograms(histogram_source):
    assert rasp.run(histogram_source, "hist", "aabac") == [3, 3, 1, 3, 1]
    assert rasp.run(histogram_source, "hist_bos", "§aabac") == [0, 3, 3, 1, 3, 1]


def test_value_types_are_python_types():
    ints = rasp.run("y = indices * 2 + 1;", "y", "hello")
    assert ints == [1, 3, 5, 7, 9] and all(type(v) is int for v in ints)
    bools = rasp.run('y = tokens == "l";', "y", "hello")
    assert bools == [False, False, True, True, False] and all(type(v) is bool for v in bools)
    means = rasp.run(
        'y = aggregate(select(indices, indices, <=), indicator(tokens == "a"));', "y", "abab"
    )
    # one selected value is that value itself, as in the reference; means are floats
    assert means == [1, 0.5, 2 / 3, 0.5] and [type(v) for v in means] == [int] + [float] * 3
    # Python's ints are arbitrary precision, and so are RASP's.
    big = rasp.run("y = indices + 100000000000000000000;", "y", "abc")
    assert big == [10**20, 10**20 + 1, 10**20 + 2]


def test_list_inputs():
    source = "y = aggregate(select(indices, length - indices - 1, ==), tokens);"
    # tokens are strings, as in the reference (its `tokens` is tokens_str)
    assert rasp.run(source, "y", [1, 2.5, True, "x"]) == ["x", "True", "2.5", "1"]
    assert rasp.run("y = indices;", "y", ("a", "b")) == [0, 1]


def test_a_program_is_run_once_and_used_many_times(reverse_source):
    program = rasp.Program(reverse_source, name="reverse.rasp")
    assert program.name == "reverse.rasp" and program.source == reverse_source
    for word in ["a", "ab", "abc", "racecar", "xyz" * 10]:
        assert program.run("reverse", word) == list(reversed(word))
    # library s-ops are there too
    assert program.run("length", "abcd") == [4, 4, 4, 4]


def test_runs_from_a_thread_with_a_small_stack():
    # A chain of 450 additions nests 450 levels deep in the parser and the
    # evaluator; the interpreter has a thread of its own, so the caller's
    # stack does not matter.
    source = "y = indices" + " + 1" * 450 + ";"
    results = []
    old = threading.stack_size(64 * 1024)
    try:
        thread = threading.Thread(target=lambda: results.append(rasp.run(source, "y", "abc")))
        thread.start()
        thread.join()
    finally:
        threading.stack_size(old)
    assert results == [[450, 451, 452]]


def test_recursion_as_deep_as_the_reference_allows():
    source = (
        "def f(n) {\n  return 0 if n == 0 else f(n - 1) + 1;\n}\nd = f(100);\nw = indices + d;\n"
    )
    assert rasp.run(source, "w", "ab") == [100, 101]


def test_one_program_from_many_threads(reverse_source):
    program = rasp.Program(reverse_source)
    failures = []

    def work(seed):
        for i in range(40):
            word = "abcdefg"[(seed + i) % 7 :] or "z"
            if program.run("reverse", word) != list(reversed(word)):
                failures.append(word)

    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="needs Linux's /proc")
def test_interpreter_threads_end_with_their_programs(reverse_source):
    def threads():
        return len(os.listdir("/proc/self/task"))

    def settled():
        # Threads of programs collected earlier end on their own time.
        gc.collect()
        last, deadline = threads(), time.monotonic() + 5
        while time.monotonic() < deadline:
            time.sleep(0.05)
            now = threads()
            if now == last:
                return now
            last = now
        return last

    before = settled()
    programs = [rasp.Program(reverse_source) for _ in range(10)]
    assert threads() >= before + 10
    assert [p.run("reverse", "ab") for p in programs] == [["b", "a"]] * 10
    del programs
    gc.collect()
    deadline = time.monotonic() + 10
    while threads() > before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert threads() <= before
