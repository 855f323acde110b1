"""Model.save_pretrained: a folder that loads without rasp (read here with
json and a hand-written safetensors reader, run by the numpy transcription
of TransformerLens's forward pass), is the same bytes on every save, and
loads back into rasp."""

from __future__ import annotations

import importlib.util
import json
import struct

import numpy as np
import pytest
from conftest import words
from reference import transformer_lens_forward

import rasp

HAVE_LENS = (
    importlib.util.find_spec("torch") is not None
    and importlib.util.find_spec("transformer_lens") is not None
)


@pytest.fixture(scope="module")
def sort_model(paper_source):
    return rasp.compile(paper_source, "sort_bos", "abc", 4, bos="§")


def read_safetensors_by_hand(path):
    data = path.read_bytes()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + length])
    assert (8 + length) % 8 == 0
    out = {}
    for name, info in header.items():
        if name != "__metadata__":
            begin, end = info["data_offsets"]
            raw = data[8 + length + begin : 8 + length + end]
            out[name] = np.frombuffer(raw, "<f4").reshape(info["shape"])
    return out


def test_folder_runs_without_rasp(sort_model, tmp_path):
    folder = sort_model.save_pretrained(tmp_path / "sort")
    names = {p.name for p in folder.iterdir()}
    assert names == {
        "config.json",
        "model.safetensors",
        "tokens.json",
        "outputs.json",
        "circuit.json",
        "rasp",
    }
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    state = read_safetensors_by_hand(folder / "model.safetensors")
    tokens = json.loads((folder / "tokens.json").read_text(encoding="utf-8"))
    outputs = json.loads((folder / "outputs.json").read_text(encoding="utf-8"))
    # The documented order: start, BOS, the vocabulary as given, padding.
    assert tokens["tokens"] == ["<start>", "§", "a", "b", "c", "<pad>"]
    assert tokens["ids"] == {"<start>": 0, "§": 1, "a": 2, "b": 3, "c": 4, "<pad>": 5}
    assert (tokens["bos_id"], tokens["start_id"]) == (1, 0)
    assert tokens["pad_id"] == len(tokens["tokens"]) - 1 and tokens["pad_token"] == "<pad>"
    assert tokens["ids"]["<pad>"] == tokens["pad_id"]
    assert outputs["loss_mask"] == [False, False, True, True, True, True]
    assert outputs["encoding"] == "categorical"
    assert len(outputs["residual_labels"]) == config["d_model"]
    # sorting, decoded from the files alone
    for word in words("abc", 4):
        ids = [0, tokens["bos_id"]] + [tokens["ids"][t] for t in word]
        logits, _ = transformer_lens_forward(config, state, ids)
        mask = outputs["loss_mask"][: len(ids)]
        decoded = [outputs["values"][int(j)] for j in np.argmax(logits[np.array(mask)], axis=1)]
        assert decoded == sorted(word), word


def test_same_bytes_every_time_and_loads_back(paper_source, sort_model, tmp_path):
    first = sort_model.save_pretrained(tmp_path / "one")
    again = rasp.compile(paper_source, "sort_bos", "abc", 4, bos="§")
    second = again.save_pretrained(tmp_path / "two")
    for name in ("config.json", "model.safetensors", "tokens.json", "outputs.json"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    loaded = rasp.load_model(first)
    assert loaded.config == sort_model.config
    for name, array in sort_model.weights.items():
        np.testing.assert_array_equal(loaded.weights[name], array)
    assert loaded.forward("cab") == ["§", "a", "b", "c"]
    assert rasp.load_model(first / "rasp").verify()["mismatches"] == 0
    assert not [p for p in first.rglob(".*.partial")]


@pytest.mark.skipif(not HAVE_LENS, reason="torch or transformer_lens is not installed")
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_folder_loads_into_transformer_lens(sort_model, tmp_path):
    import torch
    from transformer_lens import HookedTransformer, HookedTransformerConfig

    folder = sort_model.save_pretrained(tmp_path / "sort")
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    hooked = HookedTransformer(HookedTransformerConfig(**config))
    state = {
        k: torch.from_numpy(v.copy())
        for k, v in read_safetensors_by_hand(folder / "model.safetensors").items()
    }
    hooked.load_state_dict(state, strict=False)
    ids = torch.tensor([sort_model.encode("cab")])
    with torch.no_grad():
        logits = hooked(ids)
    assert sort_model.decode(logits[0, 1:].numpy()) == ["§", "a", "b", "c"]
