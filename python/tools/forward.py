#!/usr/bin/env python3
"""Run a transformer compiled by `rasp compile`, with numpy only.

    python3 forward.py DIR INPUT

DIR holds model.json and model.safetensors. INPUT is a word over the model's
vocabulary: tokens separated by spaces or commas, or, when it has neither,
one token per character ("abc"). The BOS token, if the model has one, is
added in front; so is the compiler's start token (position 0). Prints the
decoded output, one value per input position (BOS included), as a JSON list.

The forward pass is the one model.json states in "forward": token + position
embeddings; per layer, x += sum over heads of
softmax(scale * (x Wq)(x Wk)^T + mask) (x Wv) Wo, then x += relu(x W_in) W_out;
no LayerNorm, no biases; the readout is x @ unembed, decoded by argmax
(categorical) or by the nearest possible value (numerical). The mask is zero
unless model.json says "causal": true (a decoder, docs/semantics.md §6): then
a query at position i may not see keys after i, except key 0 (the start
token) and, with "prefix_len": L, keys before L + 1.

`--residual` prints the final residual stream instead (for comparisons).
"""

import json
import struct
import sys

import numpy as np


def load_safetensors(path):
    """Reads a safetensors file by hand: an 8-byte little-endian header
    length, a JSON header, then raw little-endian tensor data."""
    with open(path, "rb") as f:
        data = f.read()
    (header_len,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + header_len].decode("utf-8"))
    base = 8 + header_len
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] != "F32":
            raise ValueError(f"tensor {name}: dtype {info['dtype']}, expected F32")
        start, end = info["data_offsets"]
        array = np.frombuffer(data[base + start : base + end], dtype="<f4")
        tensors[name] = array.reshape(info["shape"]).astype(np.float32)
    return tensors


def tokenize(text, config):
    if any(sep in text for sep in " ,"):
        word = [t for t in text.replace(",", " ").split(" ") if t != ""]
    else:
        word = list(text)
    if len(word) > config["max_len"]:
        raise ValueError(f"{len(word)} tokens; the model takes at most {config['max_len']}")
    ids = [0]
    if config.get("bos") is not None:
        ids.append(config["tokens"].index(config["bos"]))
    for t in word:
        if t not in config["tokens"][1:] or t == config.get("bos"):
            raise ValueError(f"token {t!r} is not in the vocabulary {config['vocab']}")
        ids.append(config["tokens"].index(t, 1))
    return ids


def attention_mask(config, n):
    """0 where a query (row) may attend to a key (column), -inf elsewhere."""
    mask = np.zeros((n, n), dtype=np.float32)
    if not config.get("causal", False):
        return mask
    prefix = config.get("prefix_len")
    for query in range(n):
        for key in range(n):
            visible = key == 0 or key <= query or (prefix is not None and key < prefix + 1)
            if not visible:
                mask[query, key] = -np.inf
    return mask


def forward(config, t, ids):
    x = t["embed.tokens"][ids] + t["embed.positions"][: len(ids)]
    mask = attention_mask(config, len(ids))
    for l, layer in enumerate(config["layers"]):
        update = np.zeros_like(x)
        for h, head in enumerate(layer["heads"]):
            p = f"layers.{l}.heads.{h}."
            q = x @ t[p + "w_q"]
            k = x @ t[p + "w_k"]
            v = x @ t[p + "w_v"]
            logits = np.float32(head["scale"]) * (q @ k.T) + mask
            logits = logits - logits.max(axis=1, keepdims=True)
            weights = np.exp(logits)
            weights = weights / weights.sum(axis=1, keepdims=True)
            update = update + (weights @ v) @ t[p + "w_o"]
        x = x + update
        if layer["mlp_hidden"] > 0:
            hidden = np.maximum(x @ t[f"layers.{l}.mlp.w_in"], np.float32(0))
            x = x + hidden @ t[f"layers.{l}.mlp.w_out"]
    return x


def decode(config, t, x):
    out = x[1:] @ t["unembed"]
    readout = config["readout"]
    values = readout["values"]
    if readout["encoding"] == "categorical":
        return [values[int(i)] for i in out.argmax(axis=1)]
    numbers = np.array([float(v) for v in values], dtype=np.float64)
    return [values[int(np.abs(numbers - float(y)).argmin())] for y in out[:, 0]]


def main(argv):
    args = [a for a in argv[1:] if a != "--residual"]
    if len(args) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    directory, text = args
    with open(f"{directory}/model.json", encoding="utf-8") as f:
        config = json.load(f)
    tensors = load_safetensors(f"{directory}/model.safetensors")
    try:
        ids = tokenize(text, config)
    except ValueError as e:
        print(f"forward.py: {e}", file=sys.stderr)
        return 1
    x = forward(config, tensors, ids)
    if "--residual" in argv:
        print(json.dumps(x.tolist()))
    else:
        print(json.dumps(decode(config, tensors, x), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
