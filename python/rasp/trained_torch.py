"""Trained models (``rasp train``) as PyTorch modules. PyTorch is imported
only when :func:`to_torch` is called."""

from __future__ import annotations

import math
from typing import Any

from .torch_module import _import_torch

_LN_EPSILON = 1e-5
_MASKED = -1e9


def to_torch(model: Any):
    """A ``torch.nn.Module`` computing the trained encoder of ``model`` (a
    :class:`rasp.TrainedModel`).

    Its ``state_dict`` keys are the tensor names of ``model.safetensors``
    (``embedding``, ``layers.L.attn.query.weight`` ..., ``layers.L.ff.in.bias``,
    ``layers.L.norm1.gain``, ``classifier.weight``), so the file loads into it
    with ``load_state_dict``; linear weights are ``[in, out]``.
    ``forward(ids, key_mask=None)`` takes token ids ``[batch, positions]`` (as
    ``model.encode`` gives them; padding is id 0, marked 0 in ``key_mask``)
    and returns logits ``[batch, positions, classes]``; with
    ``return_attention=True`` it also returns one ``[batch, heads, queries,
    keys]`` tensor per layer.
    """
    torch = _import_torch()
    nn = torch.nn
    config = dict(model.config)
    weights = model.weights

    def parameter(name: str):
        return nn.Parameter(torch.from_numpy(weights[name].copy()))

    class Linear(nn.Module):
        def __init__(self, name: str):
            super().__init__()
            self.weight = parameter(f"{name}.weight")
            self.bias = parameter(f"{name}.bias")

        def forward(self, x):
            return x @ self.weight + self.bias

    class Norm(nn.Module):
        def __init__(self, name: str):
            super().__init__()
            self.gain = parameter(f"{name}.gain")
            self.shift = parameter(f"{name}.shift")

        def forward(self, x):
            centred = x - x.mean(dim=-1, keepdim=True)
            variance = (centred * centred).mean(dim=-1, keepdim=True)
            return centred / torch.sqrt(variance + _LN_EPSILON) * self.gain + self.shift

    class Block(nn.Module):
        def __init__(self, index: int):
            super().__init__()
            prefix = f"layers.{index}"
            self.attn = nn.ModuleDict(
                {part: Linear(f"{prefix}.attn.{part}") for part in ("query", "key", "value", "out")}
            )
            self.norm1 = Norm(f"{prefix}.norm1")
            self.ff = nn.ModuleDict({part: Linear(f"{prefix}.ff.{part}") for part in ("in", "out")})
            self.norm2 = Norm(f"{prefix}.norm2")

        def forward(self, x, bias):
            batch, length, width = x.shape
            heads = config["heads"]
            d_head = width // heads

            def split(t):
                return t.reshape(batch, length, heads, d_head).transpose(1, 2)

            q, k, v = (split(self.attn[part](x)) for part in ("query", "key", "value"))
            pattern = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d_head) + bias, dim=-1)
            mixed = (pattern @ v).transpose(1, 2).reshape(batch, length, width)
            x = self.norm1(x + self.attn["out"](mixed))
            x = self.norm2(x + self.ff["out"](torch.relu(self.ff["in"](x))))
            return x, pattern

    class TrainedEncoder(nn.Module):
        """An encoder trained by ``rasp train`` on a RASP program's outputs."""

        def __init__(self):
            super().__init__()
            self.config = config
            self.classes = list(model.classes)
            self.tokens = list(model.tokens)
            self.embedding = parameter("embedding")
            self.layers = nn.ModuleList(Block(i) for i in range(config["layers"]))
            self.classifier = Linear("classifier")
            # Not parameters: fixed, and not in the weights file.
            positions = torch.from_numpy(model._positions.copy())
            self.register_buffer("positions", positions, persistent=False)

        def forward(self, ids, key_mask=None, return_attention: bool = False):
            ids = torch.as_tensor(ids)
            if ids.dim() == 1:
                ids = ids.unsqueeze(0)
            batch, length = ids.shape
            x = self.embedding[ids] + self.positions[:length]
            mask = torch.ones(batch, length) if key_mask is None else torch.as_tensor(key_mask)
            bias = ((mask.to(x.dtype) - 1.0) * -_MASKED).reshape(batch, 1, 1, length)
            if config.get("causal"):
                prefix = config.get("prefix_len") or 0
                query = torch.arange(length).unsqueeze(1)
                key = torch.arange(length).unsqueeze(0)
                allowed = (key <= query) | (key < prefix)
                bias = bias + torch.where(allowed, 0.0, _MASKED).to(x.dtype)
            patterns = []
            for block in self.layers:
                x, pattern = block(x, bias)
                patterns.append(pattern)
            logits = self.classifier(x)
            return (logits, patterns) if return_attention else logits

    return TrainedEncoder()
