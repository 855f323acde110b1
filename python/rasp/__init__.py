"""rasp: RASP, the Restricted Access Sequence Processing language of
"Thinking Like Transformers" (Weiss, Goldberg, Yahav, ICML 2021), from Python.

Run programs exactly as the reference interpreter does, count their layers
and heads, draw them, compile them to the weights of an ordinary transformer
and verify those on every input::

    import rasp

    source = '''
    flip = select(indices, length - indices - 1, ==);
    reverse = aggregate(flip, tokens);
    '''
    rasp.run(source, "reverse", "hello")          # ['o', 'l', 'l', 'e', 'h']
    rasp.analyze(source, "reverse")["heads_per_layer"]   # [1, 1]
    m = rasp.compile(source, "reverse", vocab="abc", max_len=5)
    m.forward("abc")                              # ['c', 'b', 'a']
    m.verify()["mismatches"]                      # 0

Errors are exceptions of the classes in :mod:`rasp.errors`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from typing import Any, Union

from . import _native
from .drawing import Drawing
from .errors import (
    CompileError,
    InternalError,
    ModelError,
    RaspError,
    RaspEvaluationError,
    RaspInputError,
    RaspIOError,
    RaspNameError,
    RaspProgramError,
    RaspSyntaxError,
)
from .model import Model
from .trained import TrainedModel, load_trained

__version__: str = _native.__version__

__all__ = [
    "CompileError",
    "Drawing",
    "InternalError",
    "Model",
    "ModelError",
    "Program",
    "RaspError",
    "RaspEvaluationError",
    "RaspIOError",
    "RaspInputError",
    "RaspNameError",
    "RaspProgramError",
    "RaspSyntaxError",
    "Session",
    "TrainedModel",
    "analyze",
    "compile",
    "draw",
    "load_model",
    "load_trained",
    "run",
]

Input = Union[str, Sequence[Any]]


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise RaspInputError(f"{what} must be a str, got {type(value).__name__}")
    return value


class Program:
    """A RASP program, run once; its s-ops are then used by name.

    ``source`` is RASP text as a ``.rasp`` file holds it (statements end
    with ``;``); ``load "file";`` reads files relative to the working
    directory, as the reference does. ``name`` appears in error locations
    (``name:line:column``). Raises :class:`RaspSyntaxError` or
    :class:`RaspProgramError` when a statement fails.
    """

    def __init__(self, source: str, name: str = "<string>"):
        self._native = _native.Program(_text(source, "source"), _text(name, "name"))

    @property
    def source(self) -> str:
        return self._native.source

    @property
    def name(self) -> str:
        return self._native.name

    def run(self, sop: str, input: Input) -> list:
        """The values of ``sop`` on ``input``: a str (one token per
        character) or a list of atoms (str, int, float, bool)."""
        return self._native.run(_text(sop, "sop"), input)

    def analyze(self, sop: str, bos: Any = None, schedule: str = "greedy") -> dict:
        """The layers and heads ``sop`` needs: the JSON of ``rasp analyze
        --json`` as a dict (``layers``, ``heads_per_layer``, ``max_heads``,
        ``total_heads``, ``layers_detail``; see docs/json.md). ``bos``: a BOS
        token (or True) counts the library's ``selector_width`` as one head,
        as with a BOS at position 0 (``--bos``); ``schedule`` is ``"greedy"``
        (the reference's placement) or ``"best"``."""
        with_bos = bos is not None and bos is not False
        return json.loads(
            self._native.analyze(_text(sop, "sop"), with_bos, _text(schedule, "schedule"))
        )

    def draw(self, sop: str, input: Input) -> Drawing:
        """The computation flow of ``sop`` on ``input``, layer by layer."""
        return Drawing(*self._native.draw(_text(sop, "sop"), input))

    def compile(
        self,
        sop: str,
        vocab: str | Sequence[str],
        max_len: int,
        bos: str | None = None,
        encodings: Mapping[str, str] | None = None,
        causal: bool = False,
    ) -> Model:
        """``sop`` compiled to transformer weights for words of 1 to
        ``max_len`` tokens of ``vocab`` (a list of str tokens, or a str:
        ``"a,b,c"``, or one token per character ``"abc"``), after the token
        ``bos`` when given. ``encodings`` forces s-ops' encodings by name
        (``{"hist": "numerical"}``; or ``"categorical"``). ``causal=True``
        compiles a decoder: each position attends to itself and earlier
        ones, in the interpreter the model is verified against as well."""
        if isinstance(vocab, str):
            tokens = _native.parse_vocab(vocab)
        elif isinstance(vocab, (list, tuple)):
            tokens = list(vocab)
            for token in tokens:
                if not isinstance(token, str):
                    raise RaspInputError(
                        f"vocabulary tokens are str (the model reads text), got {token!r}"
                    )
        else:
            raise RaspInputError(
                f"vocab must be a str or a list of str, got {type(vocab).__name__}"
            )
        if not isinstance(max_len, int) or isinstance(max_len, bool) or not 1 <= max_len < 2**32:
            raise RaspInputError(f"max_len must be an int from 1 to 2**32 - 1, got {max_len!r}")
        if bos is not None:
            _text(bos, "bos")
        pairs = []
        for name, encoding in (encodings or {}).items():
            pairs.append((_text(name, "an encoding's s-op"), _text(encoding, "an encoding")))
        if not isinstance(causal, bool):
            raise RaspInputError(f"causal must be True or False, got {causal!r}")
        return Model(self._native.compile(_text(sop, "sop"), tokens, max_len, bos, pairs, causal))


def run(source: str, sop: str, input: Input) -> list:
    """The values of ``sop`` (defined by ``source``) on ``input``."""
    return Program(source).run(sop, input)


def analyze(source: str, sop: str, bos: Any = None, schedule: str = "greedy") -> dict:
    """The layers and heads ``sop`` needs (see :meth:`Program.analyze`)."""
    return Program(source).analyze(sop, bos=bos, schedule=schedule)


def draw(source: str, sop: str, input: Input) -> Drawing:
    """The computation flow of ``sop`` on ``input`` (see :meth:`Program.draw`)."""
    return Program(source).draw(sop, input)


def compile(
    source: str,
    sop: str,
    vocab: str | Sequence[str],
    max_len: int,
    bos: str | None = None,
    encodings: Mapping[str, str] | None = None,
    causal: bool = False,
) -> Model:
    """``sop`` compiled to transformer weights (see :meth:`Program.compile`)."""
    return Program(source).compile(sop, vocab, max_len, bos=bos, encodings=encodings, causal=causal)


def load_model(path: str | os.PathLike[str]) -> Model:
    """A model folder written by :meth:`Model.save` or ``rasp compile``, or
    by :meth:`Model.save_pretrained` (read from its ``rasp/`` folder)."""
    return Model(_native.load_model(os.fspath(path)))


class Session:
    """A REPL session, as ``rasp`` at the terminal: feed lines, read what
    they print. The library is loaded; ``help``, ``analyze(sop);`` and
    ``compile(sop, vocab, max_len);`` work as at the prompt. Drawings asked
    for with ``draw(sop);`` collect in :attr:`drawings`."""

    def __init__(self):
        self._native = _native.Session()
        self.drawings: list = []
        self.exited = False

    def feed(self, text: str) -> str:
        """Feeds ``text`` as lines typed at the prompt (several lines are fed
        one by one) and returns what they print."""
        out = []
        for line in _text(text, "a line").splitlines() or [text]:
            printed, drawings, _, exited = self._native.feed(line)
            out.append(printed)
            for _path, drawn in drawings:
                if isinstance(drawn, BaseException):
                    out.append(f"\t(no drawing: {drawn})\n")
                else:
                    self.drawings.append(Drawing(*drawn))
            self.exited = self.exited or exited
        return "".join(out)

    @property
    def prompt(self) -> str:
        """``>> ``, or ``.. `` while a statement is being typed."""
        return self._native.prompt()

    @property
    def continuing(self) -> bool:
        """Whether a statement is being typed (waiting for more lines)."""
        return self._native.prompt().startswith("..")

    def banner(self) -> str:
        """The REPL's greeting and running example, as ``rasp`` prints them first."""
        return self._native.banner()

    def names(self) -> list:
        """The names defined at the console (the library's included)."""
        return self._native.names()
