"""The exceptions rasp raises, one class per kind of mistake.

Every error of the Rust facade has a kind (``rasp::ErrorKind``); each kind
becomes its own class here, all under :class:`RaspError`:

==============  =========================  =====================================
kind            class                      raised when
==============  =========================  =====================================
``syntax``      :class:`RaspSyntaxError`   a statement of the program does not parse
                (also a ``SyntaxError``)
``program``     :class:`RaspProgramError`  the program parses but a statement fails
``evaluation``  :class:`RaspEvaluationError`  running an s-op on an input fails
                (a ``RaspProgramError``)
``name``        :class:`RaspNameError`     the s-op asked for is not defined, or is
                (also a ``LookupError``)   a selector, a function or a value
``input``       :class:`RaspInputError`    an input, vocabulary, token or option
                (also a ``ValueError``)    is not usable
``compile``     :class:`CompileError`      the program cannot be compiled with
                                           these options
``model``       :class:`ModelError`        a compiled model or its folder is
                                           malformed or does not fit
``io``          :class:`RaspIOError`       a file cannot be read
                (also an ``OSError``)
``internal``    :class:`InternalError`     a bug in rasp (please report it)
==============  =========================  =====================================

Each exception has ``kind`` (the name in the first column), ``message``
(the text rasp prints, possibly several lines) and ``diagnostics``: one dict
per error in the program text, with ``kind`` (``syntax``, or the evaluation
error's: ``program``, ``python``, ``unsupported``, ``internal``),
``message``, ``file``, ``line``, ``column`` (1-based) and ``line_text``
(the last four None when no text is to blame). A :class:`RaspSyntaxError`
also has ``SyntaxError``'s ``filename``, ``lineno``, ``offset`` and
``text`` from its first diagnostic.
"""

from __future__ import annotations


class RaspError(Exception):
    """Base class of every error rasp raises."""

    kind = "error"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message
        self.diagnostics: list = []

    def __str__(self) -> str:
        return self.message


class RaspSyntaxError(RaspError, SyntaxError):
    """A statement of the program does not parse."""

    kind = "syntax"


class RaspProgramError(RaspError):
    """The program parses, but a statement fails (a RASP error, or a
    Python-semantics error while it runs)."""

    kind = "program"


class RaspEvaluationError(RaspProgramError):
    """Running an s-op on an input fails."""

    kind = "evaluation"


class RaspNameError(RaspError, LookupError):
    """The s-op asked for is not defined, or is not an s-op."""

    kind = "name"


class RaspInputError(RaspError, ValueError):
    """An input, vocabulary, token or option given is not usable."""

    kind = "input"


class CompileError(RaspError):
    """The program cannot be compiled to weights with these options."""

    kind = "compile"


class ModelError(RaspError):
    """A compiled model (or its folder) is malformed or does not fit."""

    kind = "model"


class RaspIOError(RaspError, OSError):
    """A file cannot be read."""

    kind = "io"


class InternalError(RaspError):
    """A bug in rasp, not the caller's mistake."""

    kind = "internal"


_BY_KIND = {
    cls.kind: cls
    for cls in (
        RaspSyntaxError,
        RaspProgramError,
        RaspEvaluationError,
        RaspNameError,
        RaspInputError,
        CompileError,
        ModelError,
        RaspIOError,
        InternalError,
    )
}


def _from_kind(kind: str, message: str, diagnostics: list = ()) -> RaspError:
    """The exception for an error of the facade (called by the extension)."""
    error = _BY_KIND.get(kind, InternalError)(message)
    error.diagnostics = list(diagnostics)
    if isinstance(error, SyntaxError) and error.diagnostics:
        first = error.diagnostics[0]
        error.filename, error.lineno = first["file"], first["line"]
        error.offset, error.text = first["column"], first["line_text"]
    return error
