"""Compiled models: the weights of an ordinary transformer computing an
s-op exactly, their forward pass, decoding and verification."""

from __future__ import annotations

import json
import os
import pathlib
import time
from collections.abc import Sequence
from typing import Any, Union

import numpy as np

from . import _native
from .errors import RaspInputError

Tokens = Union[str, Sequence[str]]


def _matrix(rows: int, cols: int, data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype="<f4").reshape(rows, cols).astype(np.float32)


def _write_files(folder: pathlib.Path, files: list) -> None:
    """Writes (name, bytes) pairs into ``folder``, each atomically: to a
    hidden partial file first, then renamed over the target."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files:
        partial = folder / f".{name}.partial"
        partial.write_bytes(data)
        os.replace(partial, folder / name)


class Model:
    """A transformer compiled from a RASP program (``rasp.compile``) or read
    from a model folder (``rasp.load_model``).

    The network (``config["forward"]`` states it): ids are the start token
    (id 0, position 0), BOS if the model has one, then the word; token and
    position embeddings are added; each layer adds the sum of its heads'
    softmax attention, then its ReLU MLP; no LayerNorm, no biases, no masks;
    the readout is ``x[1:] @ unembed``. Outputs cover every position after the
    start token: BOS (if any) and the word, as the interpreter computes them
    on ``[bos] + word``.
    """

    def __init__(self, native: Any):
        self._native = native
        self._config = json.loads(native.config_json())

    # -- description -------------------------------------------------------

    @property
    def config(self) -> dict:
        """``model.json`` as a dict (a fresh copy on every access)."""
        return json.loads(self._native.config_json())

    @property
    def weights(self) -> dict:
        """Every weight by its name in ``model.safetensors`` (``embed.tokens``,
        ``embed.positions``, ``layers.L.heads.H.w_q``/``w_k``/``w_v``/``w_o``,
        ``layers.L.mlp.w_in``/``w_out``, ``unembed``), as float32 arrays used
        as ``x @ W``. A fresh copy on every access: changing it does not
        change the model."""
        return {name: _matrix(r, c, b) for name, r, c, b in self._native.weights()}

    @property
    def residual_labels(self) -> list:
        """The label of each residual dimension, in order (``start``,
        ``one``, ``tokens:a``, ``indices:3``, ``NAME#ID:VALUE``, ...)."""
        dims = sorted(self._config["residual"], key=lambda d: d["dim"])
        return [d["label"] for d in dims]

    @property
    def sop(self) -> str:
        """The s-op the model computes."""
        return self._native.sop

    @property
    def vocab(self) -> list:
        """The input tokens."""
        return list(self._config["vocab"])

    @property
    def bos(self) -> str | None:
        """The token every input starts with (added by :meth:`encode`), or None."""
        return self._config["bos"]

    @property
    def max_len(self) -> int:
        """The longest word the model is built for (BOS not counted)."""
        return self._config["max_len"]

    @property
    def tokens(self) -> list:
        """Token id i is ``tokens[i]``: the start token, BOS (if any), the vocabulary."""
        return list(self._config["tokens"])

    @property
    def source(self) -> str:
        """The RASP program the model was compiled from."""
        return self._native.source

    def summary(self) -> str:
        """The compiled size, layer by layer, as ``rasp compile`` prints it."""
        return self._native.summary()

    def __repr__(self) -> str:
        c = self._config
        return (
            f"<rasp.Model {self.sop}: d_model {c['d_model']}, {c['n_layers']} layers, "
            f"vocab {c['vocab']}, bos {c['bos']!r}, max_len {c['max_len']}>"
        )

    # -- running -------------------------------------------------------------

    def _word(self, tokens: Tokens) -> list:
        if isinstance(tokens, str):
            return self._native.split_word(tokens)
        if isinstance(tokens, (list, tuple)):
            for position, token in enumerate(tokens):
                if not isinstance(token, str):
                    raise RaspInputError(
                        f"token {position} is a {type(token).__name__}; tokens are str "
                        f"(the vocabulary is {self.vocab})"
                    )
            return list(tokens)
        raise RaspInputError(
            f"a word is a str or a list of str tokens, got {type(tokens).__name__}"
        )

    def encode(self, tokens: Tokens) -> list:
        """Token ids: 0 (the start token), the BOS id if the model has one,
        then the word's. ``tokens`` is a list of tokens, or a str (one token a
        character when every token is one character, else comma-separated)."""
        return self._native.encode(self._word(tokens))

    def forward(self, tokens: Tokens) -> list:
        """The decoded output at every position after the start token (BOS,
        if any, then the word's positions)."""
        return self.forward_batch([tokens])[0]

    def forward_batch(self, words: Sequence[Tokens]) -> list:
        """:meth:`forward` on many words at once (one list per word)."""
        if isinstance(words, str):
            raise RaspInputError("forward_batch takes a list of words; for one word use forward")
        return [values for values, _ in self._native.run([self._word(w) for w in words])]

    def residual(self, tokens: Tokens) -> np.ndarray:
        """The final residual stream, ``[positions, d_model]``: row 0 is the
        start token, then BOS (if any), then the word."""
        ((rows, cols, data),) = self._native.residuals([self._word(tokens)])
        return _matrix(rows, cols, data)

    def attention(self, tokens: Tokens) -> list:
        """Every head's softmax attention on one word: ``attention(w)[l][h]``
        is layer ``l``'s head ``h`` (both from 0, as in ``config["layers"]``
        and the tensor names), a ``[positions, positions]`` array with one
        row per query; position 0 is the start token, then BOS (if any), then
        the word. Each row sums to 1."""
        layers = self._native.attention(self._word(tokens))
        return [[_matrix(r, c, b) for r, c, b in heads] for heads in layers]

    def logits(self, tokens: Tokens) -> np.ndarray:
        """The readout scores ``residual[1:] @ unembed``: one row per decoded
        position; one column per output value (``config["readout"]["values"]``)
        for a categorical output, one column holding the value for a
        numerical one."""
        residual = np.ascontiguousarray(self.residual(tokens), dtype="<f4")
        rows, cols, data = self._native.scores(*residual.shape, residual.tobytes())
        return _matrix(rows, cols, data)

    def decode(self, array: Any, kind: str | None = None, margins: bool = False):
        """Output values from a final residual stream (``[positions,
        d_model]``, start token in row 0, as :meth:`residual` gives it) or
        from readout scores (``[positions, width]``, as :meth:`logits` gives
        them); a 3-d array is a batch. ``kind`` is ``"residual"`` or
        ``"logits"``; by default the width tells. With ``margins=True``,
        returns ``(values, margins)``: how far each decision is from flipping
        (1 = a clean one-hot or an exact value, 0 = on the boundary)."""
        if hasattr(array, "detach"):  # a torch tensor
            array = array.detach().cpu().numpy()
        a = np.asarray(array, dtype="<f4")
        if a.ndim == 3:
            decoded = [self.decode(m, kind=kind, margins=margins) for m in a]
            return decoded
        if a.ndim != 2:
            raise RaspInputError(f"decode takes a 2-d array (or a 3-d batch), got shape {a.shape}")
        d_model, width = self._config["d_model"], self._native.readout_width()
        if kind is None:
            if a.shape[1] == d_model:
                kind = "residual"
            elif a.shape[1] == width:
                kind = "logits"
            else:
                raise RaspInputError(
                    f"cannot decode an array of shape {a.shape}: a residual stream has "
                    f"{d_model} columns, readout scores {width}"
                )
        a = np.ascontiguousarray(a)
        if kind == "residual":
            values, margin = self._native.decode_residual(a.shape[0], a.shape[1], a.tobytes())
        elif kind == "logits":
            values, margin = self._native.decode_scores(a.shape[0], a.shape[1], a.tobytes())
        else:
            raise RaspInputError(f'kind must be "residual" or "logits", got {kind!r}')
        return (values, margin) if margins else values

    # -- checking and saving ---------------------------------------------------

    def verify(
        self, exhaustive_limit: int = 1_000_000, sample: int = 20_000, seed: int = 0x5EED
    ) -> dict:
        """Runs the model and the interpreter on every input up to ``max_len``
        (while there are at most ``exhaustive_limit``; else ``sample`` random
        words per longer length) and compares them: the report of ``rasp
        verify --json`` (``mismatches``, ``inputs_checked``, ``examples``,
        ``min_margin``, ..., and ``seconds``)."""
        for name, value in (
            ("exhaustive_limit", exhaustive_limit),
            ("sample", sample),
            ("seed", seed),
        ):
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**63:
                raise RaspInputError(f"{name} must be an int from 0 to 2**63 - 1, got {value!r}")
        start = time.perf_counter()
        report = json.loads(self._native.verify(exhaustive_limit, sample, seed))
        report["seconds"] = time.perf_counter() - start
        return report

    def save(self, path: str | os.PathLike[str], onnx: bool = False) -> pathlib.Path:
        """Writes the model folder ``rasp compile`` writes (``model.json``,
        ``model.safetensors``, ``program.rasp``, the files the program loaded,
        ``circuit.json`` (:meth:`circuit`), and with ``onnx=True``
        ``model.onnx``); ``rasp verify DIR`` and
        :func:`rasp.load_model` read it. Returns the folder."""
        folder = pathlib.Path(path)
        _write_files(folder, self._native.files(bool(onnx)))
        return folder

    def to_torch(self):
        """The same network as a plain ``torch.nn.Module`` (needs PyTorch).
        See :func:`rasp.torch_module.to_torch`."""
        from .torch_module import to_torch

        return to_torch(self)

    def save_pretrained(self, path: str | os.PathLike[str]) -> pathlib.Path:
        """Writes a folder that needs no rasp to load: ``config.json``
        (TransformerLens's config fields), ``model.safetensors``
        (TransformerLens's parameter names), ``tokens.json`` (the token
        map), ``outputs.json`` (output values, loss mask, residual labels),
        ``circuit.json``, and rasp's own folder in ``rasp/``;
        :func:`rasp.load_model` and ``rasp verify DIR`` read it back (the
        same folder as ``rasp compile --format hf``; python/README.md
        describes the files). Returns the folder."""
        folder = pathlib.Path(path)
        files = self._native.pretrained_files()
        self.save(folder / _native.PRETRAINED_RASP_FOLDER)
        _write_files(folder, files)
        return folder

    def dataset(self, n: int, seed: int = 0, length: int | None = None, temperature: float = 1.0):
        """``n`` clean inputs of ``length`` tokens (default ``max_len``), a
        corrupted input for each (an independent random word of the same
        length whose output differs), the correct outputs as ``labels``
        (indices into :attr:`output_values`, or values for a numerical
        output), the logits of both runs, the loss mask, and
        ``metric(logits)`` (KL divergence from the clean run at
        ``temperature``, or MSE for a numerical output) and
        ``accuracy(logits)``: a :class:`rasp.dataset.Dataset`, the same for
        the same seed. See :mod:`rasp.dataset`."""
        from .dataset import make_dataset

        return make_dataset(self, n, seed=seed, length=length, temperature=temperature)

    def circuit(self) -> dict:
        """The ground-truth circuit, read off the weights (python/README.md
        and docs/json.md explain how), as
        ``circuit.json`` holds it: ``nodes`` (``embed``, ``pos_embed``, each
        head ``aL.H``, each MLP ``mL``, the readout ``unembed``; each with
        its TransformerLens output ``hook`` (and ``head`` index), its input
        hooks by role, the s-ops it ``reads`` per role and ``writes``),
        ``edges`` (q/k/v granularity: ``from``, ``to``, ``input``, ``sop``,
        the hooks at both ends, ``constant``), ``head_edges`` (one per pair
        of components) and ``sops`` (each s-op's residual dimensions, its
        writers and readers)."""
        return json.loads(self._native.circuit_json())

    # -- TransformerLens ---------------------------------------------------------

    @property
    def output_values(self) -> list:
        """The output value of each logit (column of ``unembed``) for a
        categorical output; for a numerical one (a single column holding the
        value) the values it can take, ascending."""
        return list(self._config["readout"]["values"])

    @property
    def loss_mask(self) -> list:
        """One bool per position of a full-length input (``n_positions``):
        True at the word's positions, which carry the output; False at
        position 0 (the start token, no output) and at BOS (if any)."""
        return self._native.loss_mask()

    def transformer_lens_config(self) -> dict:
        """The ``HookedTransformerConfig`` fields of this model as a dict
        (see :mod:`rasp.lens`); needs no TransformerLens. Raises
        :class:`ModelError` for a model TransformerLens cannot mask."""
        return json.loads(self._native.transformer_lens_config_json())

    def transformer_lens_state_dict(self) -> dict:
        """The weights under TransformerLens's names and shapes, as float32
        numpy arrays (see :mod:`rasp.lens`); needs no TransformerLens."""
        return {
            name: np.frombuffer(data, dtype="<f4").reshape(shape).astype(np.float32)
            for name, shape, data in self._native.transformer_lens_tensors()
        }

    def to_transformer_lens(self, device: str = "cpu", dtype: str = "float32"):
        """A TransformerLens ``HookedTransformer`` computing this model (needs
        PyTorch and TransformerLens 2 or 3), in ``dtype`` (``"float32"`` or
        ``"float64"``). See :mod:`rasp.lens`."""
        from .lens import to_transformer_lens

        return to_transformer_lens(self, device=device, dtype=dtype)
