"""Compiled models as plain PyTorch modules (PyTorch is imported only here,
when :func:`to_torch` is called)."""

from __future__ import annotations

from typing import Any

_INSTALL = (
    "rasp.Model.to_torch() needs PyTorch, which is not installed here; "
    "install it with `pip install torch` (the CPU build is enough)"
)


def _import_torch():
    try:
        import torch
    except ImportError as missing:
        raise ImportError(_INSTALL) from missing
    return torch


def to_torch(model: Any):
    """A ``torch.nn.Module`` computing ``model``'s forward pass.

    Its ``state_dict`` keys are the tensor names of ``model.safetensors``
    (``embed.tokens``, ``embed.positions``, ``layers.L.heads.H.w_q`` ...,
    ``layers.L.mlp.w_in``/``w_out``, ``unembed``), so the file loads into it
    with ``load_state_dict``. ``forward(ids)`` takes token ids (``[n]`` or
    ``[batch, n]``, as ``model.encode`` gives them) and returns the readout
    scores of every position after the start token (``[..., n - 1,
    width]``); ``residual_stream(ids)`` returns the final residual stream;
    ``model.decode`` reads either. The module's ``config`` is
    ``model.config``.
    """
    torch = _import_torch()
    nn = torch.nn
    config = model.config
    weights = model.weights

    def parameter(name: str):
        return nn.Parameter(torch.from_numpy(weights[name].copy()))

    class Head(nn.Module):
        def __init__(self, prefix: str, scale: float):
            super().__init__()
            self.w_q = parameter(f"{prefix}.w_q")
            self.w_k = parameter(f"{prefix}.w_k")
            self.w_v = parameter(f"{prefix}.w_v")
            self.w_o = parameter(f"{prefix}.w_o")
            # Not in the weights file: the scale is in model.json.
            self.register_buffer("scale", torch.tensor(float(scale)), persistent=False)

        def forward(self, x):
            q, k, v = x @ self.w_q, x @ self.w_k, x @ self.w_v
            pattern = torch.softmax(self.scale * (q @ k.transpose(-1, -2)), dim=-1)
            return (pattern @ v) @ self.w_o

    class Mlp(nn.Module):
        def __init__(self, prefix: str):
            super().__init__()
            self.w_in = parameter(f"{prefix}.w_in")
            self.w_out = parameter(f"{prefix}.w_out")

        def forward(self, x):
            return torch.relu(x @ self.w_in) @ self.w_out

    class Layer(nn.Module):
        def __init__(self, index: int, layer_config: dict):
            super().__init__()
            self.heads = nn.ModuleList(
                Head(f"layers.{index}.heads.{h}", head["scale"])
                for h, head in enumerate(layer_config["heads"])
            )
            self.mlp = Mlp(f"layers.{index}.mlp") if layer_config["mlp_hidden"] > 0 else None

        def forward(self, x):
            update = torch.zeros_like(x)
            for head in self.heads:
                update = update + head(x)
            x = x + update
            if self.mlp is not None:
                x = x + self.mlp(x)
            return x

    class Embedding(nn.Module):
        def __init__(self):
            super().__init__()
            self.tokens = parameter("embed.tokens")
            self.positions = parameter("embed.positions")

        def forward(self, ids):
            return self.tokens[ids] + self.positions[: ids.shape[-1]]

    class CompiledTransformer(nn.Module):
        """A transformer compiled from a RASP program by rasp."""

        def __init__(self):
            super().__init__()
            self.config = config
            self.embed = Embedding()
            self.layers = nn.ModuleList(Layer(i, lc) for i, lc in enumerate(config["layers"]))
            self.unembed = parameter("unembed")

        def residual_stream(self, ids):
            x = self.embed(ids)
            for layer in self.layers:
                x = layer(x)
            return x

        def forward(self, ids):
            return self.residual_stream(ids)[..., 1:, :] @ self.unembed

    return CompiledTransformer()
