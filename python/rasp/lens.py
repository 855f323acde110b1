"""Compiled models as TransformerLens ``HookedTransformer`` objects.

The configuration fields and the weights under TransformerLens's names are
made by the Rust facade (``crates/rasp/src/lens.rs``, the same code behind
``rasp compile --format hf``) and reach Python as
:meth:`rasp.Model.transformer_lens_config` and
:meth:`rasp.Model.transformer_lens_state_dict`; this module only builds
the ``HookedTransformer`` from them, importing torch and TransformerLens
when it is called.

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

One thing is added, for batches of words of different lengths: a padding
token, the last id (``len(model.tokens)``; ``tokens.json`` names it). It
writes 1 into one extra residual dimension, the last (labelled ``pad``),
which nothing else writes or reads, and every head gets one extra
query/key column: the query is the constant ``b_Q`` = 1, the key ``-1e6``
times that dimension. A PAD key therefore scores -10^6 against every query
and gets no attention at all, so right-padded words compute at their real
positions exactly what they compute alone, in either attention direction
and with no ``attention_mask`` (which TransformerLens applies only to
causal attention). ``d_model`` and ``d_head`` are therefore one larger than
the compiled model's, and ``hook_resid_post[..., :-1]`` is rasp's residual
stream.

Positions are those of :meth:`rasp.Model.encode`: position 0 is the start
token, which is no output, so its logits mean nothing and ``loss_mask[0]``
is False; with a BOS, position 1 is the BOS token, whose value the program
computes but which is no answer to the task, so ``loss_mask[1]`` is False
too; the word's positions follow and carry the output.
"""

from __future__ import annotations

import warnings
from typing import Any

from .errors import ModelError

_INSTALL = (
    "rasp.Model.to_transformer_lens() needs TransformerLens 2 or 3 (it builds a "
    "HookedTransformer, which TransformerLens 4 removed) and PyTorch; install them with "
    '`pip install torch "transformer_lens>=2,<4"`'
)


def _import_transformer_lens():
    try:
        import torch
        from transformer_lens import HookedTransformer, HookedTransformerConfig
    except ImportError as missing:
        raise ImportError(_INSTALL) from missing
    return torch, HookedTransformer, HookedTransformerConfig


def to_transformer_lens(model: Any, device: str = "cpu", dtype: str = "float32"):
    """A TransformerLens ``HookedTransformer`` with ``model``'s weights (see
    the module's docstring). Its input is token ids as ``model.encode``
    gives them (``[batch, positions]``; no BOS is prepended for you: use
    ``prepend_bos=False`` with strings, or pass ids); its logits
    ``[batch, positions, d_vocab_out]`` are decoded by ``model.decode(logits[b, 1:])``.
    ``hooked.rasp_output_values`` and ``hooked.rasp_loss_mask`` are attached.
    ``dtype`` is ``"float32"`` (rasp's own precision) or ``"float64"``:
    matrix products sum in another order than rasp's, so in float32 the
    residual streams agree to rounding (decoded outputs are the same), in
    float64 to about 1e-12."""
    torch, HookedTransformer, HookedTransformerConfig = _import_transformer_lens()
    if dtype not in ("float32", "float64"):
        raise ValueError(f'dtype must be "float32" or "float64", not {dtype!r}')
    fields = model.transformer_lens_config()
    fields["device"] = device
    fields["dtype"] = getattr(torch, dtype)
    with warnings.catch_warnings():
        # TransformerLens 3 warns that HookedTransformer goes away in 4; it is
        # still the class circuit-discovery code is written against.
        warnings.simplefilter("ignore", DeprecationWarning)
        hooked = HookedTransformer(HookedTransformerConfig(**fields))
    state = {
        name: torch.from_numpy(array).to(getattr(torch, dtype))
        for name, array in model.transformer_lens_state_dict().items()
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
    hooked.rasp_output_values = model.output_values
    hooked.rasp_loss_mask = model.loss_mask
    return hooked
