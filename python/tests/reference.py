"""Forward passes written out in numpy, independently of the package's code:
rasp's own (as model.json's "forward" states it) and TransformerLens's (as
its HookedTransformer computes, on TransformerLens-named parameters), so the
tests can check one against the other."""

from __future__ import annotations

import numpy as np


def softmax(scores):
    scores = scores - scores.max(axis=-1, keepdims=True)
    weights = np.exp(scores)
    return weights / weights.sum(axis=-1, keepdims=True)


def rasp_forward(config, weights, ids):
    """The residual stream after each layer, ``[layers][positions, d_model]``,
    on rasp's tensor names and conventions (per-head scale, x @ W, no masks)."""
    ids = np.asarray(ids)
    x = weights["embed.tokens"][ids] + weights["embed.positions"][: len(ids)]
    after = []
    for index, layer in enumerate(config["layers"]):
        update = np.zeros_like(x)
        for h, head in enumerate(layer["heads"]):
            p = f"layers.{index}.heads.{h}"
            scores = head["scale"] * (x @ weights[f"{p}.w_q"]) @ (x @ weights[f"{p}.w_k"]).T
            update += softmax(scores) @ (x @ weights[f"{p}.w_v"]) @ weights[f"{p}.w_o"]
        x = x + update
        if layer["mlp_hidden"]:
            hidden = np.maximum(x @ weights[f"layers.{index}.mlp.w_in"], 0)
            x = x + hidden @ weights[f"layers.{index}.mlp.w_out"]
        after.append(x)
    return after


def transformer_lens_forward(tl_config, state, ids):
    """TransformerLens's HookedTransformer forward pass for a model without
    LayerNorm: ``(logits [positions, d_vocab_out], resid_post per layer)``.

    As TransformerLens computes it: ``resid = W_E[ids] + W_pos[:n]``; per
    block, ``q = resid @ W_Q[h] + b_Q[h]`` (likewise k, v), scores ``q k^T``
    divided by ``sqrt(d_head)`` when ``use_attn_scale`` (else by 1), minus
    infinity above the diagonal when ``attention_dir == "causal"``, softmax
    over keys, ``z = pattern @ v``, ``attn_out = sum_h z_h @ W_O[h] + b_O``;
    ``resid_mid = resid + attn_out``; ``mlp_out = act(resid_mid @ W_in +
    b_in) @ W_out + b_out``; ``resid_post = resid_mid + mlp_out``; logits
    ``resid @ W_U + b_U``."""
    assert tl_config["normalization_type"] is None and tl_config["act_fn"] == "relu"
    assert tl_config["positional_embedding_type"] == "standard"
    ids = np.asarray(ids)
    n = len(ids)
    resid = state["embed.W_E"][ids] + state["pos_embed.W_pos"][:n]
    scale = np.sqrt(tl_config["d_head"]) if tl_config["use_attn_scale"] else 1.0
    causal = tl_config["attention_dir"] == "causal"
    posts = []
    for layer in range(tl_config["n_layers"]):
        b = f"blocks.{layer}"
        q = (
            np.einsum("pd,hde->hpe", resid, state[f"{b}.attn.W_Q"])
            + state[f"{b}.attn.b_Q"][:, None]
        )
        k = (
            np.einsum("pd,hde->hpe", resid, state[f"{b}.attn.W_K"])
            + state[f"{b}.attn.b_K"][:, None]
        )
        v = (
            np.einsum("pd,hde->hpe", resid, state[f"{b}.attn.W_V"])
            + state[f"{b}.attn.b_V"][:, None]
        )
        scores = np.einsum("hqe,hke->hqk", q, k) / scale
        if causal:
            scores = np.where(np.tril(np.ones((n, n), bool)), scores, -np.inf)
        z = np.einsum("hqk,hke->hqe", softmax(scores), v)
        attn_out = np.einsum("hqe,hed->qd", z, state[f"{b}.attn.W_O"]) + state[f"{b}.attn.b_O"]
        resid_mid = resid + attn_out
        hidden = np.maximum(resid_mid @ state[f"{b}.mlp.W_in"] + state[f"{b}.mlp.b_in"], 0)
        resid = resid_mid + hidden @ state[f"{b}.mlp.W_out"] + state[f"{b}.mlp.b_out"]
        posts.append(resid)
    return resid @ state["unembed.W_U"] + state["unembed.b_U"], posts
