"""Compile reverse, look at it, load it in TransformerLens, read its
ground-truth circuit and run activation patching on every component.

    python python/examples/reverse_circuit.py [--html reverse.html]

Needs the rasp package (``pip install ./python``) and numpy. With PyTorch
and TransformerLens 2 or 3 installed (``pip install torch
"transformer_lens>=2,<4"``) the patching runs in a real HookedTransformer;
without them it runs the same TransformerLens forward pass written out in
numpy on the same TransformerLens-named weights. Either way it shows that
patching the flip head (a1.0: layer 1, head 0) from a corrupted input
breaks the output, while the other components, patched alone, change
nothing: they compute length and opp_idx, which are the same for the clean
and the corrupted word (both have the same length). The circuit names all
of them; patching tells which carry the difference between the two inputs.
"""

from __future__ import annotations

import argparse
import html
import importlib.util

import numpy as np

import rasp

# As in the paper; `length` is the library's (one head and an MLP).
SOURCE = """
opp_idx = length - indices - 1;
flip = select(indices, opp_idx, ==);
reverse = aggregate(flip, tokens);
"""


def numpy_run(config, state, ids, patches=None):
    """TransformerLens's forward pass (no LayerNorm) in numpy on a batch of
    ids; ``patches`` maps ("attn", layer, head) or ("mlp", layer) to the
    output to use instead of the component's own ``[batch, positions,
    d_model]``. Returns the logits and every component's output."""
    patches = patches or {}
    ids = np.asarray(ids)
    resid = state["embed.W_E"][ids] + state["pos_embed.W_pos"][: ids.shape[1]]
    outputs = {}
    for layer in range(config["n_layers"]):
        b = f"blocks.{layer}.attn"
        # b_Q is the padding column's constant query (python/README.md).
        q = np.einsum("bpd,hde->bhpe", resid, state[f"{b}.W_Q"]) + state[f"{b}.b_Q"][:, None, :]
        k = np.einsum("bpd,hde->bhpe", resid, state[f"{b}.W_K"])
        v = np.einsum("bpd,hde->bhpe", resid, state[f"{b}.W_V"])
        scores = np.einsum("bhqe,bhke->bhqk", q, k)
        pattern = np.exp(scores - scores.max(-1, keepdims=True))
        pattern /= pattern.sum(-1, keepdims=True)
        z = np.einsum("bhqk,bhke->bhqe", pattern, v)
        for head in range(config["n_heads"]):
            key = ("attn", layer, head)
            outputs[key] = patches.get(key, z[:, head] @ state[f"{b}.W_O"][head])
            resid = resid + outputs[key]
        m = f"blocks.{layer}.mlp"
        hidden = np.maximum(resid @ state[f"{m}.W_in"], 0)
        key = ("mlp", layer)
        outputs[key] = patches.get(key, hidden @ state[f"{m}.W_out"])
        resid = resid + outputs[key]
    return resid @ state["unembed.W_U"], outputs


def patching_effects(model, data):
    """The metric with each component's output patched from the corrupted
    run, by circuit node id."""
    circuit = model.circuit()
    components = [n for n in circuit["nodes"] if n["kind"] in ("head", "mlp")]
    effects = {}
    have_lens = all(importlib.util.find_spec(m) for m in ("torch", "transformer_lens"))
    if have_lens:
        import torch

        hooked = model.to_transformer_lens()
        clean = torch.tensor(data.clean_ids)
        with torch.no_grad():
            _, cache = hooked.run_with_cache(torch.tensor(data.corrupted_ids))
            for node in components:
                hook, head = node["hook"], node["head"]

                def patch(value, hook, name=hook, head=head):
                    if head is None:
                        return cache[name]
                    value[:, :, head] = cache[name][:, :, head]
                    return value

                logits = hooked.run_with_hooks(clean, fwd_hooks=[(hook, patch)])
                effects[node["id"]] = float(data.metric(logits))
        return effects, "TransformerLens"
    config, state = model.transformer_lens_config(), model.transformer_lens_state_dict()
    _, corrupted = numpy_run(config, state, data.corrupted_ids)
    for node in components:
        key = (
            ("attn", node["layer"], node["head"])
            if node["kind"] == "head"
            else ("mlp", node["layer"])
        )
        logits, _ = numpy_run(config, state, data.clean_ids, {key: corrupted[key]})
        effects[node["id"]] = data.metric(logits)
    return effects, "numpy (TransformerLens is not installed)"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--html", help="also write the drawing and the results to this page")
    args = parser.parse_args()

    print(rasp.analyze(SOURCE, "reverse")["heads_per_layer"], "heads per layer (analysis)")
    model = rasp.compile(SOURCE, "reverse", vocab="abcd", max_len=5)
    print(model.summary())
    print("verify:", model.verify()["mismatches"], "mismatches")
    print("forward('abcd') =", model.forward("abcd"))

    circuit = model.circuit()
    print("\ncircuit (q/k/v edges, constants left out):")
    for edge in circuit["edges"]:
        if not edge["constant"]:
            print(f"  {edge['from']:>9} -> {edge['to']:<8} {edge['input']:<7} {edge['sop']}")

    data = model.dataset(100, seed=0)
    print(f"\ndataset: {len(data)} words of length {data.clean_ids.shape[1] - 1}")
    print(
        f"  metric (KL, T={data.temperature}) clean {data.metric(data.clean_logits):.4f}, "
        f"corrupted {data.metric(data.corrupted_logits):.4f}"
    )
    effects, engine = patching_effects(model, data)
    print(f"\nactivation patching, one component at a time ({engine}):")
    for node, effect in effects.items():
        print(f"  {node:<5} KL {effect:.4f}")

    if args.html:
        drawing = rasp.draw(SOURCE, "reverse", "abcd")
        rows = "".join(
            f"<tr><td>{html.escape(n)}</td><td>{e:.4f}</td></tr>" for n, e in effects.items()
        )
        page = (
            "<!doctype html><meta charset=utf-8><title>reverse</title>"
            f"<h1>reverse</h1><pre>{html.escape(model.summary())}</pre>{drawing.svg}"
            f"<h2>Activation patching ({html.escape(engine)})</h2>"
            f"<table><tr><th>component</th><th>KL</th></tr>{rows}</table>"
        )
        with open(args.html, "w", encoding="utf-8") as out:
            out.write(page)
        print("wrote", args.html)


if __name__ == "__main__":
    main()
