"""Each mistake raises its own exception class (one per facade error kind),
never a PanicException."""

from __future__ import annotations

import numpy as np
import pytest

import rasp
from rasp import _native, errors


def test_every_error_kind_has_its_class():
    classes = {
        "syntax": rasp.RaspSyntaxError,
        "program": rasp.RaspProgramError,
        "evaluation": rasp.RaspEvaluationError,
        "name": rasp.RaspNameError,
        "input": rasp.RaspInputError,
        "compile": rasp.CompileError,
        "model": rasp.ModelError,
        "io": rasp.RaspIOError,
        "internal": rasp.InternalError,
    }
    for kind, cls in classes.items():
        made = _native._exception_for_kind(kind, "the message")
        assert type(made) is cls and made.kind == kind and str(made).endswith("the message")
        assert isinstance(made, rasp.RaspError)
    assert len(set(classes.values())) == len(classes)
    assert issubclass(rasp.RaspSyntaxError, SyntaxError)
    assert issubclass(rasp.RaspEvaluationError, rasp.RaspProgramError)
    assert issubclass(rasp.RaspInputError, ValueError)
    assert issubclass(rasp.RaspNameError, LookupError)
    assert issubclass(rasp.RaspIOError, OSError)
    assert errors._from_kind("something new", "m").kind == "internal"


def test_syntax_errors_say_where():
    with pytest.raises(rasp.RaspSyntaxError, match=r"prog\.rasp:2:5") as caught:
        rasp.Program("a = 1;\nx = ;\n", name="prog.rasp")
    error = caught.value
    assert error.kind == "syntax" and error.message.startswith("prog.rasp has errors")
    (diagnostic,) = error.diagnostics
    assert diagnostic["kind"] == "syntax"
    assert (diagnostic["file"], diagnostic["line"], diagnostic["column"]) == ("prog.rasp", 2, 5)
    assert diagnostic["line_text"] == "x = ;"
    # and as a SyntaxError
    assert (error.filename, error.lineno, error.offset, error.text) == ("prog.rasp", 2, 5, "x = ;")


def test_program_errors():
    with pytest.raises(rasp.RaspProgramError, match="Expected selector"):
        rasp.run("x = aggregate(3, tokens);", "x", "abc")
    with pytest.raises(rasp.RaspProgramError, match="Undefined variable") as caught:
        rasp.run("a = 1;\nx = nothing + 1;", "x", "abc")
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic["kind"] == "program" and diagnostic["line"] == 2


def test_evaluation_errors():
    source = "y = 1 / (length - 3);"
    assert rasp.run(source, "y", "abcd") == [1.0] * 4
    with pytest.raises(rasp.RaspEvaluationError, match="division by zero"):
        rasp.run(source, "y", "abc")


def test_name_errors(reverse_source):
    with pytest.raises(rasp.RaspNameError, match="nothing is not defined"):
        rasp.run(reverse_source, "nothing", "abc")
    with pytest.raises(rasp.RaspNameError, match="flip is a selector; run takes an s-op"):
        rasp.run(reverse_source, "flip", "abc")
    with pytest.raises(rasp.RaspNameError, match="sort is a function"):
        rasp.analyze(reverse_source, "sort")
    with pytest.raises(rasp.RaspNameError):
        rasp.compile("n = 3;", "n", "ab", 3)


def test_input_errors(reverse_source):
    for bad in [42, None, [1, [2]], [{"a": 1}], [2**70]]:
        with pytest.raises(rasp.RaspInputError):
            rasp.run(reverse_source, "reverse", bad)
    with pytest.raises(rasp.RaspInputError, match="empty"):
        rasp.draw(reverse_source, "reverse", "")
    with pytest.raises(rasp.RaspInputError):
        rasp.run(b"x = 1;", "x", "a")
    with pytest.raises(rasp.RaspInputError, match="max_len"):
        rasp.compile(reverse_source, "reverse", "ab", 0)
    with pytest.raises(rasp.RaspInputError, match="max_len"):
        rasp.compile(reverse_source, "reverse", "ab", True)
    with pytest.raises(rasp.RaspInputError, match="max_len"):
        rasp.compile(reverse_source, "reverse", "ab", 2**70)
    with pytest.raises(rasp.RaspInputError, match="str"):
        rasp.compile(reverse_source, "reverse", [1, 2], 3)
    with pytest.raises(rasp.RaspInputError, match="categorical"):
        rasp.compile(reverse_source, "reverse", "ab", 3, encodings={"reverse": "binary"})


def test_model_input_errors(reverse_source):
    model = rasp.compile(reverse_source, "reverse", "ab", 3)
    with pytest.raises(rasp.RaspInputError, match="not in the vocabulary"):
        model.forward("abz")
    with pytest.raises(rasp.RaspInputError, match="at most 3"):
        model.forward("abab")
    with pytest.raises(rasp.RaspInputError, match="str"):
        model.encode([1, 2])
    with pytest.raises(rasp.RaspInputError):
        model.forward_batch("ab")
    with pytest.raises(rasp.RaspInputError):
        model.decode(np.zeros((2, 3)), kind="weights")
    with pytest.raises(rasp.RaspInputError):
        model.verify(sample=-1)
    with pytest.raises(rasp.RaspInputError):
        model.verify(seed=2**64)


def test_compile_errors(histogram_source):
    with pytest.raises(rasp.CompileError, match="vocabulary is empty"):
        rasp.compile(histogram_source, "hist", [], 3)
    with pytest.raises(rasp.CompileError, match="must not be in the vocabulary"):
        rasp.compile(histogram_source, "hist", "abc", 3, bos="a")


def test_model_folder_errors(reverse_source, tmp_path):
    with pytest.raises(rasp.RaspIOError, match="cannot read"):
        rasp.load_model(tmp_path / "missing")
    folder = rasp.compile(reverse_source, "reverse", "ab", 3).save(tmp_path / "m")
    (folder / "program.rasp").unlink()
    with pytest.raises(rasp.RaspIOError, match="program.rasp"):
        rasp.load_model(folder)
    (folder / "model.json").write_text("{}", encoding="utf-8")
    with pytest.raises(rasp.ModelError):
        rasp.load_model(folder)
