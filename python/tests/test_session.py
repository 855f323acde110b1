"""rasp.Session: lines typed at the REPL, what they print."""

from __future__ import annotations

import rasp


def test_statements_print_as_at_the_prompt():
    session = rasp.Session()
    printed = session.feed("flip = select(indices, length - indices - 1, ==);")
    assert "selector: flip" in printed
    printed = session.feed("reverse = aggregate(flip, tokens);")
    assert 'reverse("hello") = [o, l, l, e, h] (strings)' in printed
    assert session.feed('reverse("abc");') == "\t =  [c, b, a] (strings)\n"
    assert "reverse" in session.names()


def test_unfinished_statements_continue():
    session = rasp.Session()
    assert session.feed("x = (indices") == ""
    assert session.continuing and session.prompt.startswith("..")
    assert 'x("hello") = [1, 2, 3, 4, 5]' in session.feed("+ 1);")
    assert not session.continuing and session.prompt == ">> "


def test_several_lines_at_once_and_errors_as_text():
    session = rasp.Session()
    printed = session.feed("a = 1;\nb = a + 1;\nb;\nnothing;")
    assert "=  2" in printed
    assert "nothing" in printed  # the REPL reports the error as text, no exception


def test_help_and_builtins():
    session = rasp.Session()
    assert "seq sorted by key" in session.feed("help sort")
    assert "Defined so far: nothing yet" in session.feed("help")
    session.feed("flip = select(indices, length - indices - 1, ==);")
    session.feed("reverse = aggregate(flip, tokens);")
    assert "analysed size 2 layers, heads per layer 1/1" in session.feed("analyze(reverse);")
    compiled = session.feed('compile(reverse, ["a", "b"], 4);')
    assert "0 mismatches" in compiled


def test_drawings_and_exit():
    session = rasp.Session()
    session.feed('x = tokens == "l";')
    session.feed('draw(x, "hello");')
    (drawing,) = session.drawings
    assert drawing.title == 'x("hello")' and "<svg" in drawing.svg
    assert "RASP" in session.banner()
    assert not session.exited
    session.feed("exit")
    assert session.exited
