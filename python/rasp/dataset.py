"""Data for circuit discovery (ACDC-style): clean inputs, corrupted inputs,
the correct outputs and a metric, for one compiled model.

* **Clean inputs**: ``n`` words of ``length`` tokens (default ``max_len``;
  one length so that they batch), each token drawn uniformly from the
  vocabulary with ``numpy.random.default_rng(seed)``: the same seed gives
  the same data on every machine.
* **Corrupted inputs**: resampled as ACDC does, an independent random word
  of the same length for each clean one; we also require that its output
  differ from the clean one's at a word position at least (drawn again,
  up to 1000 times, until it does), so that every pair carries a signal.
* **Correct outputs**: the model's outputs (``Model.forward``, which
  ``Model.verify`` checks against the interpreter), as ``labels``: for a
  categorical output the index of each position's value in
  ``output_values`` (the logit that should win), for a numerical one the
  value; positions the loss mask leaves out (start token, BOS) hold -1
  (categorical) or NaN (numerical).
* **Metric** (``Dataset.metric(logits)``, logits ``[batch, positions,
  d_vocab_out]`` as TransformerLens's ``HookedTransformer`` returns them,
  numpy or torch; with torch it stays differentiable): categorical outputs,
  the KL divergence from the clean run's distribution to the given one,
  both ``softmax(logits / temperature)`` (temperature 1 by default; the
  compiled logits are one-hot-like, margins about 1, so the distributions
  are not degenerate), summed over values, averaged over the loss mask's
  positions and the batch: 0 on the clean run. Numerical outputs, the mean
  squared error of the single logit against the correct value over the same
  positions. ``Dataset.accuracy(logits)`` is the share of those positions
  decoded right.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import ModelError, RaspInputError

MAX_DRAWS = 1000


@dataclass
class Dataset:
    """Clean and corrupted inputs, the correct outputs and the metric (see
    :mod:`rasp.dataset`). Arrays are aligned with TransformerLens's
    positions: column 0 is the start token, then BOS (if any), then the word."""

    clean: list
    corrupted: list
    clean_ids: np.ndarray
    corrupted_ids: np.ndarray
    clean_outputs: list
    corrupted_outputs: list
    labels: np.ndarray
    loss_mask: np.ndarray
    clean_logits: np.ndarray
    corrupted_logits: np.ndarray
    output_values: list
    encoding: str
    temperature: float = 1.0
    seed: int = 0

    def __len__(self) -> int:
        return len(self.clean)

    def _masked(self, logits):
        """``logits`` at the loss mask's positions: ``[batch, kept, width]``."""
        shape = tuple(logits.shape)
        expected = self.clean_logits.shape
        if len(shape) != 3 or shape[1:] != expected[1:] or shape[0] != expected[0]:
            raise RaspInputError(
                f"logits of shape {list(shape)} do not fit this dataset: expected "
                f"{list(expected)} ([batch, positions, d_vocab_out])"
            )
        return logits[:, np.nonzero(self.loss_mask)[0]]

    def metric(self, logits):
        """KL divergence from the clean run (categorical) or mean squared
        error (numerical), averaged over the loss mask and the batch: a
        float for numpy logits, a 0-d tensor for torch ones."""
        given = self._masked(logits)
        clean = self.clean_logits[:, np.nonzero(self.loss_mask)[0]]
        kept_labels = self.labels[:, np.nonzero(self.loss_mask)[0]]
        if hasattr(given, "detach"):  # a torch tensor: stay differentiable
            import torch

            clean = torch.as_tensor(clean, dtype=given.dtype, device=given.device)
            if self.encoding == "numerical":
                target = torch.as_tensor(kept_labels, dtype=given.dtype, device=given.device)
                return ((given[..., 0] - target) ** 2).mean()
            log_p = torch.log_softmax(clean / self.temperature, dim=-1)
            log_q = torch.log_softmax(given / self.temperature, dim=-1)
            return (log_p.exp() * (log_p - log_q)).sum(-1).mean()
        given = np.asarray(given, dtype=np.float64)
        if self.encoding == "numerical":
            return float(np.mean((given[..., 0] - kept_labels) ** 2))
        log_p = _log_softmax(np.asarray(clean, np.float64) / self.temperature)
        log_q = _log_softmax(given / self.temperature)
        return float(np.mean(np.sum(np.exp(log_p) * (log_p - log_q), axis=-1)))

    def accuracy(self, logits) -> float:
        """The share of the loss mask's positions decoded to the correct output."""
        given = self._masked(logits)
        if hasattr(given, "detach"):
            given = given.detach().cpu().numpy()
        given = np.asarray(given, dtype=np.float64)
        kept_labels = self.labels[:, np.nonzero(self.loss_mask)[0]]
        if self.encoding == "numerical":
            values = np.asarray(self.output_values, dtype=np.float64)
            nearest = values[np.argmin(np.abs(given[..., :1] - values), axis=-1)]
            return float(np.mean(nearest == kept_labels))
        return float(np.mean(np.argmax(given, axis=-1) == kept_labels))


def _log_softmax(x: np.ndarray) -> np.ndarray:
    x = x - x.max(axis=-1, keepdims=True)
    return x - np.log(np.sum(np.exp(x), axis=-1, keepdims=True))


def _check_int(name: str, value: Any, low: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise RaspInputError(f"{name} must be an int of at least {low}, got {value!r}")
    return value


def make_dataset(model, n: int, seed: int = 0, length=None, temperature: float = 1.0) -> Dataset:
    """See :meth:`rasp.Model.dataset`."""
    _check_int("n", n, 1)
    _check_int("seed", seed, 0)
    config = model.config
    length = config["max_len"] if length is None else length
    _check_int("length", length, 1)
    if length > config["max_len"]:
        raise RaspInputError(
            f"length {length} is longer than the model's max_len {config['max_len']}"
        )
    if not isinstance(temperature, (int, float)) or not temperature > 0:
        raise RaspInputError(f"temperature must be a positive number, got {temperature!r}")
    vocab = list(config["vocab"])
    values = list(config["readout"]["values"])
    encoding = config["readout"]["encoding"]
    mask = np.array(model.loss_mask[: len(model.encode(vocab[:1] * length))], dtype=bool)
    rng = np.random.default_rng(seed)

    def draw(count):
        return [[vocab[i] for i in row] for row in rng.integers(0, len(vocab), (count, length))]

    def differs(a, b):
        # outputs cover positions 1.. (BOS, then the word); mask[1:] picks the word's
        return any(x != y for x, y, keep in zip(a, b, mask[1:]) if keep)

    clean = draw(n)
    clean_outputs = model.forward_batch(clean)
    corrupted, corrupted_outputs = [], []
    for word, output in zip(clean, clean_outputs):
        for _ in range(MAX_DRAWS):
            (candidate,) = draw(1)
            (candidate_output,) = model.forward_batch([candidate])
            if differs(output, candidate_output):
                break
        else:
            raise ModelError(
                f"no word of length {length} found (in {MAX_DRAWS} draws) whose output "
                f"differs from that of {word!r}: the output may not depend on the input"
            )
        corrupted.append(candidate)
        corrupted_outputs.append(candidate_output)

    unembed = model.weights["unembed"]

    def logits(words):
        return np.stack([model.residual(w) @ unembed for w in words]).astype(np.float32)

    positions = len(mask)
    if encoding == "categorical":
        index = {repr(v): i for i, v in enumerate(values)}
        labels = np.full((n, positions), -1, dtype=np.int64)
        for b, output in enumerate(clean_outputs):
            for p, value in enumerate(output, start=1):
                if mask[p]:
                    labels[b, p] = index[repr(value)]
    else:
        labels = np.full((n, positions), np.nan)
        for b, output in enumerate(clean_outputs):
            for p, value in enumerate(output, start=1):
                if mask[p]:
                    labels[b, p] = float(value)
    return Dataset(
        clean=clean,
        corrupted=corrupted,
        clean_ids=np.array([model.encode(w) for w in clean], dtype=np.int64),
        corrupted_ids=np.array([model.encode(w) for w in corrupted], dtype=np.int64),
        clean_outputs=clean_outputs,
        corrupted_outputs=corrupted_outputs,
        labels=labels,
        loss_mask=mask,
        clean_logits=logits(clean),
        corrupted_logits=logits(corrupted),
        output_values=values,
        encoding=encoding,
        temperature=float(temperature),
        seed=seed,
    )
