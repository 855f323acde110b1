"""Models written by ``rasp train``, run with NumPy alone.

A folder from ``rasp train ... -o DIR`` holds ``metrics.json`` (the run: its
task, config, model shape and output classes; docs/json.md) and
``model.safetensors`` (the parameters). :func:`load_trained` reads both and
runs the encoder here, in NumPy, with the same arithmetic as the Rust
trainer; :meth:`TrainedModel.to_torch` gives the same network as a PyTorch
module. python/README.md lists the tensor names and the token ids.

The network (docs/experiments.md, "The model"): token embedding plus
sinusoidal positions; ``layers`` post-LayerNorm blocks
``x = LN(x + attention(x)); x = LN(x + W2 relu(W1 x))`` of ``heads``-head
attention (scores scaled by 1/sqrt(d_head), padding keys masked, causally
masked for decoders); a linear classifier at every position.
"""

from __future__ import annotations

import json
import math
import os
import pathlib
import struct
from collections.abc import Sequence
from typing import Any, Union

import numpy as np

from .errors import ModelError, RaspInputError, RaspIOError

Tokens = Union[str, Sequence[str]]

#: The padding token: id 0 of every trained model.
PAD = "<pad>"

# The bounds ``rasp train`` accepts: a folder from someone else describing
# a larger model is refused before anything is allocated.
_MAX_LAYERS = 64
_MAX_HEADS = 64
_MAX_WIDTH = 4096
_MAX_POSITIONS = 1025
_LN_EPSILON = 1e-5
_MASKED = -1e9


def _read_safetensors(path: pathlib.Path) -> dict:
    """name -> float32 array, from a safetensors file (8-byte little-endian
    header length, a JSON header, then the data), every offset checked."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise RaspIOError(f"{path}: {error.strerror or error}") from error
    if len(data) < 8:
        raise ModelError(f"{path}: too short to be a safetensors file")
    (header_len,) = struct.unpack("<Q", data[:8])
    if header_len > len(data) - 8:
        raise ModelError(f"{path}: the header claims {header_len} bytes, the file has {len(data)}")
    try:
        header = json.loads(data[8 : 8 + header_len])
    except ValueError as error:
        raise ModelError(f"{path}: the header is not JSON ({error})") from error
    if not isinstance(header, dict):
        raise ModelError(f"{path}: the header is not a JSON object")
    body = data[8 + header_len :]
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        try:
            dtype, shape, (start, end) = entry["dtype"], entry["shape"], entry["data_offsets"]
        except (KeyError, TypeError, ValueError) as error:
            raise ModelError(f"{path}: tensor {name!r} is malformed") from error
        if dtype != "F32":
            raise ModelError(f"{path}: tensor {name!r} is {dtype}, not F32")
        count = math.prod(shape) if shape else 1
        if not (0 <= start <= end <= len(body)) or end - start != 4 * count:
            raise ModelError(
                f"{path}: tensor {name!r} has offsets {start}..{end} for shape {shape}"
            )
        tensors[name] = np.frombuffer(body[start:end], dtype="<f4").reshape(shape).copy()
    return tensors


def _sinusoidal_positions(positions: int, width: int) -> np.ndarray:
    """Position p, dimension 2i: sin(p / 10000^(2i/d)); 2i+1: the cosine."""
    table = np.zeros((positions, width))
    for i in range(width):
        rate = 10000.0 ** ((i - i % 2) / width)
        angles = np.arange(positions) / rate
        table[:, i] = np.sin(angles) if i % 2 == 0 else np.cos(angles)
    return table.astype(np.float32)


def _layer_norm(x: np.ndarray, gain: np.ndarray, shift: np.ndarray) -> np.ndarray:
    centred = x - x.mean(axis=-1, keepdims=True)
    variance = (centred**2).mean(axis=-1, keepdims=True)
    return centred / np.sqrt(variance + _LN_EPSILON) * gain + shift


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


class TrainedModel:
    """A model ``rasp train`` wrote; see :func:`load_trained`."""

    def __init__(self, metrics: dict, weights: dict, path: pathlib.Path):
        self._metrics = metrics
        self._weights = weights
        self._path = path
        self._positions = _sinusoidal_positions(
            self.config["max_positions"], self.config["d_model"]
        )

    # -- what the folder says ---------------------------------------------------

    @property
    def metrics(self) -> dict:
        """Everything ``metrics.json`` holds (accuracies, config, curve...)."""
        return self._metrics

    @property
    def config(self) -> dict:
        """The network's shape: ``layers``, ``heads``, ``d_model``, ``d_ff``,
        ``n_tokens``, ``n_classes``, ``max_positions``, ``causal``,
        ``prefix_len``."""
        return self._metrics["model"]

    @property
    def sop(self) -> str:
        """The s-op the model learned."""
        return self._metrics["task"]

    @property
    def vocab(self) -> list:
        return list(self._metrics["config"]["task"]["vocab"])

    @property
    def bos(self) -> str | None:
        return self._metrics["config"]["task"]["bos"]

    @property
    def max_len(self) -> int:
        """The longest trained input (BOS not counted)."""
        return self._metrics["config"]["task"]["max_len"]

    @property
    def tokens(self) -> list:
        """The input-token table: id ``i`` is ``tokens[i]``: 0 is padding
        (``<pad>``), then the BOS token if the task has one, then the
        vocabulary in its order."""
        return [PAD] + ([self.bos] if self.bos is not None else []) + self.vocab

    @property
    def classes(self) -> list:
        """The output classes (as Python's ``str`` of each value), in the
        classifier's order: column ``j`` of the logits is ``classes[j]``."""
        return list(self._metrics["classes"])

    @property
    def weights(self) -> dict:
        """Tensor name -> float32 array (the names of ``model.safetensors``;
        linear weights are ``[in, out]``, applied as ``x @ weight + bias``)."""
        return self._weights

    def __repr__(self) -> str:
        c = self.config
        return (
            f"<rasp.TrainedModel {self.sop}: {c['layers']} layers x {c['heads']} heads, "
            f"d_model {c['d_model']}, vocab {self.vocab}, bos {self.bos!r}, max_len {self.max_len}>"
        )

    # -- running ----------------------------------------------------------------

    def _word(self, tokens: Tokens) -> list:
        if isinstance(tokens, str):
            if all(len(t) == 1 for t in self.vocab):
                word = list(tokens)
            else:
                word = [t.strip() for t in tokens.split(",") if t.strip()]
        elif isinstance(tokens, (list, tuple)) and all(isinstance(t, str) for t in tokens):
            word = list(tokens)
        else:
            raise RaspInputError("a word is a str or a list of str tokens")
        if self.bos is not None and (not word or word[0] != self.bos):
            word.insert(0, self.bos)
        body = word[1:] if self.bos is not None else word
        if not 1 <= len(body) <= self.max_len:
            raise RaspInputError(
                f"the input must have 1 to {self.max_len} tokens (the trained lengths)"
            )
        for token in body:
            if token not in self.vocab:
                raise RaspInputError(f"{token!r} is not in the model's vocabulary {self.vocab}")
        return word

    def encode(self, tokens: Tokens) -> list:
        """Token ids of a word (the BOS put in front when the task has one);
        ``tokens`` is a list of tokens or a str (one token a character when
        every vocabulary token is one character, else comma-separated)."""
        table = {token: i for i, token in enumerate(self.tokens)}
        return [table[t] for t in self._word(tokens)]

    def forward_ids(self, ids: Any, key_mask: Any = None) -> np.ndarray:
        """Logits ``[batch, positions, classes]`` for token ids ``[batch,
        positions]`` (pad shorter words with id 0 and give ``key_mask``, 1
        for real tokens and 0 for padding; without it every position is
        real)."""
        return self._run(ids, key_mask)[0]

    def _run(self, ids: Any, key_mask: Any = None):
        ids = np.asarray(ids, dtype=np.int64)
        if ids.ndim != 2:
            raise RaspInputError(f"ids must be [batch, positions], got shape {ids.shape}")
        batch, length = ids.shape
        c = self.config
        if (
            length > c["max_positions"]
            or ids.min(initial=0) < 0
            or ids.max(initial=0) >= c["n_tokens"]
        ):
            raise RaspInputError(
                f"ids must be below {c['n_tokens']} and at most {c['max_positions']} positions"
            )
        mask = (
            np.ones((batch, length)) if key_mask is None else np.asarray(key_mask, dtype=np.float64)
        )
        w = self._weights
        x = w["embedding"][ids] + self._positions[:length]
        bias = ((mask - 1.0) * -_MASKED).reshape(batch, 1, 1, length)
        if c.get("causal"):
            prefix = c.get("prefix_len") or 0
            query, key = np.meshgrid(np.arange(length), np.arange(length), indexing="ij")
            bias = bias + np.where((key <= query) | (key < prefix), 0.0, _MASKED)
        heads, d_head = c["heads"], c["d_model"] // c["heads"]
        attention = []

        def linear(name, value):
            return value @ w[f"{name}.weight"] + w[f"{name}.bias"]

        def split(value):
            return value.reshape(batch, length, heads, d_head).transpose(0, 2, 1, 3)

        for layer in range(c["layers"]):
            prefix = f"layers.{layer}"
            q = split(linear(f"{prefix}.attn.query", x))
            k = split(linear(f"{prefix}.attn.key", x))
            v = split(linear(f"{prefix}.attn.value", x))
            pattern = _softmax(q @ k.transpose(0, 1, 3, 2) / math.sqrt(d_head) + bias)
            mixed = (pattern @ v).transpose(0, 2, 1, 3).reshape(batch, length, c["d_model"])
            x = _layer_norm(
                x + linear(f"{prefix}.attn.out", mixed),
                w[f"{prefix}.norm1.gain"],
                w[f"{prefix}.norm1.shift"],
            )
            hidden = np.maximum(linear(f"{prefix}.ff.in", x), 0.0)
            x = _layer_norm(
                x + linear(f"{prefix}.ff.out", hidden),
                w[f"{prefix}.norm2.gain"],
                w[f"{prefix}.norm2.shift"],
            )
            attention.append(pattern)
        return linear("classifier", x), attention

    def logits(self, tokens: Tokens) -> np.ndarray:
        """The classifier's scores on one word: ``[positions, classes]``,
        position 0 the BOS if the task has one."""
        return self.forward_ids([self.encode(tokens)])[0]

    def attention(self, tokens: Tokens) -> list:
        """``attention(w)[l][h]``: layer ``l``'s head ``h`` on one word, a
        ``[positions, positions]`` array (rows are queries; each sums to 1)."""
        patterns = self._run([self.encode(tokens)])[1]
        return [list(layer[0]) for layer in patterns]

    def predict(self, tokens: Tokens) -> list:
        """The predicted class at every position (``None`` at the BOS
        position, which is never predicted), as ``rasp predict`` prints."""
        scores = self.logits(tokens)
        if not np.isfinite(scores).all():
            raise ModelError("the model's scores are not finite: its weights are broken")
        skip = 1 if self.bos is not None else 0
        best = scores.argmax(axis=-1)
        return [None if p < skip else self.classes[j] for p, j in enumerate(best)]

    def to_torch(self):
        """The same network as a ``torch.nn.Module`` (see
        :func:`rasp.trained_torch.to_torch`)."""
        from .trained_torch import to_torch

        return to_torch(self)


def _check(metrics: Any, path: pathlib.Path) -> None:
    """The checks ``rasp train``'s loader makes, before any allocation."""

    def bad(why: str):
        return ModelError(f"{path}: {why}")

    try:
        model, task, classes = metrics["model"], metrics["config"]["task"], metrics["classes"]
        layers, heads, width = model["layers"], model["heads"], model["d_model"]
        vocab, bos, max_len = task["vocab"], task["bos"], task["max_len"]
    except (KeyError, TypeError) as error:
        raise bad(f"not a rasp train metrics file (missing {error})") from error
    numbers = (layers, heads, width, model.get("d_ff"), max_len)
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in numbers):
        raise bad("the model's sizes must be integers")
    if not (1 <= layers <= _MAX_LAYERS and 1 <= heads <= _MAX_HEADS and 1 <= width <= _MAX_WIDTH):
        raise bad(f"{layers} layers of {heads} heads, width {width} is outside the trainable sizes")
    if width % heads or model["d_ff"] != 2 * width:
        raise bad(f"width {width} must be a multiple of the heads and d_ff twice it")
    if not (isinstance(vocab, list) and vocab and all(isinstance(t, str) for t in vocab)):
        raise bad("the vocabulary must be a non-empty list of str")
    if len(set(vocab)) != len(vocab) or bos in vocab or PAD in vocab:
        raise bad("the vocabulary lists a token twice, or holds the BOS or the padding token")
    if model.get("n_tokens") != 1 + (bos is not None) + len(vocab):
        raise bad("the model's token count does not match its vocabulary")
    if not (isinstance(classes, list) and classes and model.get("n_classes") == len(classes)):
        raise bad("the model's class count does not match its classes")
    positions = max_len + (bos is not None)
    if model.get("max_positions") != positions or positions > _MAX_POSITIONS:
        raise bad(
            f"the model's positions do not match the task's {positions} (at most {_MAX_POSITIONS})"
        )


def _expected_shapes(config: dict) -> dict:
    d, hidden = config["d_model"], config["d_ff"]
    shapes = {"embedding": [config["n_tokens"], d]}

    def linear(name, d_in, d_out):
        shapes[f"{name}.weight"] = [d_in, d_out]
        shapes[f"{name}.bias"] = [d_out]

    for layer in range(config["layers"]):
        prefix = f"layers.{layer}"
        for part in ("query", "key", "value", "out"):
            linear(f"{prefix}.attn.{part}", d, d)
        linear(f"{prefix}.ff.in", d, hidden)
        linear(f"{prefix}.ff.out", hidden, d)
        for norm in ("norm1", "norm2"):
            shapes[f"{prefix}.{norm}.gain"] = [d]
            shapes[f"{prefix}.{norm}.shift"] = [d]
    linear("classifier", d, config["n_classes"])
    return shapes


def load_trained(path: str | os.PathLike[str]) -> TrainedModel:
    """Reads a folder written by ``rasp train`` (``metrics.json`` and
    ``model.safetensors``). The folder may come from someone else: its
    description is checked before the weights are read, and every tensor
    must have the shape the description implies."""
    folder = pathlib.Path(path)
    metrics_path = folder / "metrics.json"
    try:
        metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
    except OSError as error:
        raise RaspIOError(f"{metrics_path}: {error.strerror or error}") from error
    except ValueError as error:
        raise ModelError(f"{metrics_path}: not JSON ({error})") from error
    _check(metrics, metrics_path)
    weights = _read_safetensors(folder / "model.safetensors")
    expected = _expected_shapes(metrics["model"])
    for name, shape in expected.items():
        if name not in weights:
            raise ModelError(f"{folder / 'model.safetensors'}: no tensor {name!r}")
        if list(weights[name].shape) != shape:
            raise ModelError(
                f"{folder / 'model.safetensors'}: {name!r} has shape {list(weights[name].shape)}, "
                f"the model needs {shape}"
            )
    return TrainedModel(metrics, {name: weights[name] for name in expected}, folder)
