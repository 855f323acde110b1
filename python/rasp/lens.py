"""Compiled models in TransformerLens's terms: its configuration fields, its
parameter names and shapes, and (when TransformerLens is installed) a real
``HookedTransformer``.

The conversion is exact, not learnt: every rasp weight goes to the
TransformerLens parameter that plays its part, and everything TransformerLens
has that a compiled model lacks is zero (biases) or switched off
(LayerNorm, the ``1/sqrt(d_head)`` attention scale):

* ``embed.W_E`` is ``embed.tokens`` (token id ``i`` is ``model.tokens[i]``:
  0 the compiler's start token, then BOS if any, then the vocabulary);
  ``pos_embed.W_pos`` is ``embed.positions``; ``n_ctx`` is
  ``config["n_positions"]``.
* Heads: ``W_Q[h]`` is ``scale_h * w_q`` (rasp's per-head softmax scale is
  folded into the queries, because TransformerLens has one scale for every
  head, here switched off with ``use_attn_scale=False``), ``W_K[h]`` is
  ``w_k``, ``W_V[h]`` is ``w_v``, ``W_O[h]`` is ``w_o``. TransformerLens
  gives every head of every layer the same ``d_head`` and every layer the
  same number of heads, so each head's matrices are padded with zero
  columns to the widest head (``max(d_head, d_value)`` over all heads), and
  layers with fewer heads get zero heads (uniform attention over zero
  values: they add nothing).
* MLPs: ``W_in``/``W_out`` are ``w_in``/``w_out`` padded with zero hidden
  units to the widest MLP; a layer without an MLP has an all-zero one.
* ``unembed.W_U`` is the model's readout matrix ``unembed``: column ``j``
  is the logit of output value ``output_values[j]`` (categorical outputs:
  argmax decodes) and reads only the output s-op's residual dimensions (and
  the constant ``one`` direction for a value held implicitly); for a
  numerical output there is one column holding the value itself. It is the
  compiler's own readout, never a guess from the residual order.

Positions are those of :meth:`rasp.Model.encode`: position 0 is the start
token, which is no output, so its logits mean nothing and ``loss_mask[0]``
is False; with a BOS, position 1 is the BOS token, whose value the program
computes but which is no answer to the task, so ``loss_mask[1]`` is False
too; the word's positions follow and carry the output.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .errors import ModelError

_INSTALL = (
    "rasp.Model.to_transformer_lens() needs TransformerLens 2 or 3 (it builds a "
    "HookedTransformer, which TransformerLens 4 removed) and PyTorch; install them with "
    '`pip install torch "transformer_lens>=2,<4"`'
)


def _causal(config: dict) -> bool:
    """Whether the model was compiled for causal (decoder) attention. Models
    written before the field existed are bidirectional."""
    causal = bool(config.get("causal", False))
    prefix = config.get("prefix_len")
    if prefix is not None:
        raise ModelError(
            f"this model attends bidirectionally over a prefix of {prefix} positions and "
            "causally after it; TransformerLens has no such mask (attention_dir is "
            '"causal" or "bidirectional"), so it cannot be converted'
        )
    return causal


def output_values(config: dict) -> list:
    """The value each column of ``unembed.W_U`` stands for (categorical), or
    the values a numerical output can take (its one column holds the value)."""
    return list(config["readout"]["values"])


def loss_mask(config: dict) -> list:
    """One bool per position of a full-length input (``n_ctx`` positions):
    True where the position carries the output of a word position (not the
    start token, not BOS)."""
    first = 2 if config["bos"] is not None else 1
    return [position >= first for position in range(config["n_positions"])]


def transformer_lens_config(config: dict) -> dict:
    """The ``HookedTransformerConfig`` fields of a compiled model, as a dict
    (``HookedTransformerConfig(**transformer_lens_config(model.config))``)."""
    causal = _causal(config)
    layers = config["layers"]
    widths = [max(h["d_head"], h["d_value"]) for layer in layers for h in layer["heads"]]
    readout = config["readout"]
    return {
        "model_name": f"rasp-{readout['sop']}",
        "n_layers": config["n_layers"],
        "d_model": config["d_model"],
        "n_ctx": config["n_positions"],
        "d_head": max(widths, default=1),
        "n_heads": max((len(layer["heads"]) for layer in layers), default=1) or 1,
        "d_mlp": max((layer["mlp_hidden"] for layer in layers), default=1) or 1,
        "d_vocab": len(config["tokens"]),
        "d_vocab_out": len(readout["values"]) if readout["encoding"] == "categorical" else 1,
        "act_fn": "relu",
        "normalization_type": None,
        "attention_dir": "causal" if causal else "bidirectional",
        "positional_embedding_type": "standard",
        "use_attn_scale": False,
        "use_attn_result": True,
        "use_split_qkv_input": True,
        "use_hook_mlp_in": True,
        "default_prepend_bos": False,
    }


def transformer_lens_state_dict(config: dict, weights: dict) -> dict:
    """The compiled weights under TransformerLens's parameter names and
    shapes (float32 numpy arrays): ``embed.W_E``, ``pos_embed.W_pos``,
    ``blocks.L.attn.W_Q``/``W_K``/``W_V`` ``[n_heads, d_model, d_head]``,
    ``b_Q``/``b_K``/``b_V`` ``[n_heads, d_head]``, ``W_O`` ``[n_heads,
    d_head, d_model]``, ``b_O``, ``blocks.L.mlp.W_in`` ``[d_model, d_mlp]``,
    ``b_in``, ``W_out``, ``b_out``, ``unembed.W_U`` ``[d_model,
    d_vocab_out]``, ``unembed.b_U``. See the module's docstring for how each
    is made."""
    tl = transformer_lens_config(config)
    d_model, n_heads, d_head, d_mlp = tl["d_model"], tl["n_heads"], tl["d_head"], tl["d_mlp"]
    f32 = np.float32
    state = {
        "embed.W_E": np.asarray(weights["embed.tokens"], dtype=f32).copy(),
        "pos_embed.W_pos": np.asarray(weights["embed.positions"], dtype=f32).copy(),
    }
    for index, layer in enumerate(config["layers"]):
        w_q = np.zeros((n_heads, d_model, d_head), f32)
        w_k = np.zeros((n_heads, d_model, d_head), f32)
        w_v = np.zeros((n_heads, d_model, d_head), f32)
        w_o = np.zeros((n_heads, d_head, d_model), f32)
        for h, head in enumerate(layer["heads"]):
            prefix = f"layers.{index}.heads.{h}"
            q, k = weights[f"{prefix}.w_q"], weights[f"{prefix}.w_k"]
            v, o = weights[f"{prefix}.w_v"], weights[f"{prefix}.w_o"]
            w_q[h, :, : q.shape[1]] = np.float32(head["scale"]) * q
            w_k[h, :, : k.shape[1]] = k
            w_v[h, :, : v.shape[1]] = v
            w_o[h, : o.shape[0], :] = o
        block = f"blocks.{index}"
        state[f"{block}.attn.W_Q"] = w_q
        state[f"{block}.attn.W_K"] = w_k
        state[f"{block}.attn.W_V"] = w_v
        state[f"{block}.attn.W_O"] = w_o
        for bias in ("b_Q", "b_K", "b_V"):
            state[f"{block}.attn.{bias}"] = np.zeros((n_heads, d_head), f32)
        state[f"{block}.attn.b_O"] = np.zeros(d_model, f32)
        w_in = np.zeros((d_model, d_mlp), f32)
        w_out = np.zeros((d_mlp, d_model), f32)
        if layer["mlp_hidden"]:
            hidden = layer["mlp_hidden"]
            w_in[:, :hidden] = weights[f"layers.{index}.mlp.w_in"]
            w_out[:hidden, :] = weights[f"layers.{index}.mlp.w_out"]
        state[f"{block}.mlp.W_in"] = w_in
        state[f"{block}.mlp.b_in"] = np.zeros(d_mlp, f32)
        state[f"{block}.mlp.W_out"] = w_out
        state[f"{block}.mlp.b_out"] = np.zeros(d_model, f32)
    state["unembed.W_U"] = np.asarray(weights["unembed"], dtype=f32).copy()
    state["unembed.b_U"] = np.zeros(tl["d_vocab_out"], f32)
    return state


def _import_transformer_lens():
    try:
        import torch
        from transformer_lens import HookedTransformer, HookedTransformerConfig
    except ImportError as missing:
        raise ImportError(_INSTALL) from missing
    return torch, HookedTransformer, HookedTransformerConfig


def to_transformer_lens(model: Any, device: str = "cpu"):
    """A TransformerLens ``HookedTransformer`` with ``model``'s weights (see
    the module's docstring). Its input is token ids as ``model.encode``
    gives them (``[batch, positions]``; no BOS is prepended for you: use
    ``prepend_bos=False`` with strings, or pass ids); its logits
    ``[batch, positions, d_vocab_out]`` are decoded by ``model.decode(logits[b, 1:])``.
    ``hooked.rasp_output_values`` and ``hooked.rasp_loss_mask`` are attached."""
    torch, HookedTransformer, HookedTransformerConfig = _import_transformer_lens()
    config = model.config
    fields = transformer_lens_config(config)
    fields["device"] = device
    with warnings.catch_warnings():
        # TransformerLens 3 warns that HookedTransformer goes away in 4; it is
        # still the class circuit-discovery code is written against.
        warnings.simplefilter("ignore", DeprecationWarning)
        hooked = HookedTransformer(HookedTransformerConfig(**fields))
    state = {
        name: torch.from_numpy(array)
        for name, array in transformer_lens_state_dict(config, model.weights).items()
    }
    missing, unexpected = hooked.load_state_dict(state, strict=False)
    parameters = {name for name, _ in hooked.named_parameters()}
    if unexpected or parameters & set(missing):
        raise ModelError(
            "this TransformerLens names its parameters differently from the ones rasp "
            f"fills (missing: {sorted(parameters & set(missing))}, unexpected: "
            f"{sorted(unexpected)}); TransformerLens 2 and 3 are supported"
        )
    hooked.eval()
    hooked.rasp_output_values = output_values(config)
    hooked.rasp_loss_mask = loss_mask(config)
    return hooked
