"""Parity of compiled models in a real TransformerLens HookedTransformer.

    pip install ./python torch "transformer_lens>=2,<4"
    python python/tools/transformer_lens_parity.py

For the paper's programs (reverse; hist, sort and sort by most frequent
with a BOS; Dyck-1; Dyck-2), compiled from
crates/rasp-compile/tests/data/paper.rasp: on every input up to max_len,
the HookedTransformer's decoded outputs (float32, rasp's own precision) must
equal the interpreter's, and every layer's ``hook_resid_post`` must equal
rasp's own forward pass (run here in numpy from the rasp weights, as
model.json states it) to 1e-5. The residual streams are compared in float64
(``to_transformer_lens(dtype="float64")``): a matrix product sums in another
order in torch than in numpy, and the compiled MLPs that read several
scalars at once amplify float32 rounding to about 1e-2 in some dimensions
(the decoded outputs do not change); in float64 the agreement shows that the
conversion is exact. The float32 difference is printed too. Prints one line
per program and exits 1 on any difference.
"""

import pathlib
import sys
import time

import numpy as np
import torch

import rasp

ROOT = pathlib.Path(__file__).resolve().parents[2]
PROGRAMS = [
    ("reverse", "abcd", None, 5),
    ("hist_bos", "abcd", "§", 5),
    ("sort_bos", "abcd", "§", 5),
    ("sort_by_most_freq", "abcd", "§", 5),
    ("dyck1_ptf", "(,)", None, 10),
    ("dyck2_ptf", "(,),{,}", None, 6),
]


def rasp_layers(config, weights, ids):
    """The residual stream after each layer (numpy, rasp's conventions)."""
    x = weights["embed.tokens"][ids] + weights["embed.positions"][: ids.shape[1]]
    after = []
    for index, layer in enumerate(config["layers"]):
        update = np.zeros_like(x)
        for h, head in enumerate(layer["heads"]):
            p = f"layers.{index}.heads.{h}"
            q, k = x @ weights[f"{p}.w_q"], x @ weights[f"{p}.w_k"]
            scores = head["scale"] * q @ np.swapaxes(k, -1, -2)
            pattern = np.exp(scores - scores.max(-1, keepdims=True))
            pattern /= pattern.sum(-1, keepdims=True)
            update += pattern @ (x @ weights[f"{p}.w_v"]) @ weights[f"{p}.w_o"]
        x = x + update
        if layer["mlp_hidden"]:
            hidden = np.maximum(x @ weights[f"layers.{index}.mlp.w_in"], 0)
            x = x + hidden @ weights[f"layers.{index}.mlp.w_out"]
        after.append(x)
    return after


def words_of(vocab, length):
    out = [[]]
    for _ in range(length):
        out = [w + [t] for w in out for t in vocab]
    return out


def check(source, sop, vocab, bos, max_len):
    program = rasp.Program(source)
    model = rasp.compile(source, sop, vocab, max_len, bos=bos)
    hooked = model.to_transformer_lens()
    exact = model.to_transformer_lens(dtype="float64")
    config, weights = model.config, model.weights
    weights64 = {name: array.astype(np.float64) for name, array in weights.items()}
    checked = undefined = mismatches = 0
    worst = worst32 = 0.0
    for length in range(1, max_len + 1):
        batch = words_of(model.vocab, length)
        ids = np.array([model.encode(w) for w in batch])
        with torch.no_grad():
            logits, cache32 = hooked.run_with_cache(torch.tensor(ids))
            _, cache = exact.run_with_cache(torch.tensor(ids))
        for layer, expected in enumerate(rasp_layers(config, weights64, ids)):
            # The last dimension is the padding's (python/README.md).
            name = f"blocks.{layer}.hook_resid_post"
            worst = max(worst, float(np.abs(cache[name].numpy()[..., :-1] - expected).max()))
            worst32 = max(worst32, float(np.abs(cache32[name].numpy()[..., :-1] - expected).max()))
        decoded = model.decode(logits[:, 1:].numpy())
        for word, output in zip(batch, decoded):
            try:
                expected = program.run(sop, ([bos] if bos else []) + word)
            except rasp.RaspEvaluationError:
                undefined += 1
                continue
            checked += 1
            mismatches += output != expected
    return checked, undefined, mismatches, worst, worst32


def main():
    source = (ROOT / "crates" / "rasp-compile" / "tests" / "data" / "paper.rasp").read_text(
        encoding="utf-8"
    )
    failed = False
    for sop, vocab, bos, max_len in PROGRAMS:
        start = time.perf_counter()
        checked, undefined, mismatches, worst, worst32 = check(source, sop, vocab, bos, max_len)
        ok = mismatches == 0 and worst <= 1e-5
        failed |= not ok
        print(
            f"{sop:<18} max_len {max_len:>2}: {checked:>5} inputs, {mismatches} mismatches"
            f"{f' ({undefined} undefined skipped)' if undefined else ''}, "
            f"max |resid_post - rasp| {worst:.1e} (float32: {worst32:.1e})  "
            f"{'ok' if ok else 'FAILED'} ({time.perf_counter() - start:.1f} s)"
        )
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
