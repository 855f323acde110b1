"""Models written by ``rasp train``, loaded with ``rasp.load_trained``.

The two folders in tests/data were written by ``rasp train`` (hist_bos with a
BOS token; running_count as a decoder, ``--causal``), and their
``predictions.json`` by ``rasp predict DIR --input WORD --json`` for every
word up to the trained length: the Rust trainer's own forward pass (candle).
The NumPy and PyTorch forward passes here are written independently of it,
so agreeing with those files on every word checks all three.
"""

from __future__ import annotations

import importlib.util
import json
import pathlib
import shutil

import numpy as np
import pytest

import rasp

DATA = pathlib.Path(__file__).resolve().parent / "data"
FOLDERS = ["trained_hist", "trained_running_count"]
HAVE_TORCH = importlib.util.find_spec("torch") is not None


def expected(folder: str) -> dict:
    return json.loads((DATA / folder / "predictions.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("folder", FOLDERS)
def test_numpy_forward_equals_rasp_predict_on_every_word(folder):
    model = rasp.load_trained(DATA / folder)
    cases = expected(folder)
    assert len(cases) == sum(len(model.vocab) ** n for n in range(1, model.max_len + 1))
    for word, want in cases.items():
        assert model.predict(word) == want["outputs"], word
        np.testing.assert_allclose(
            model.logits(word), np.array(want["logits"]), atol=1e-4, err_msg=word
        )


def test_tokens_classes_and_ids():
    model = rasp.load_trained(DATA / "trained_hist")
    assert model.tokens == ["<pad>", "§", "a", "b", "c"]
    assert model.encode("cab") == [1, 4, 2, 3]
    assert model.encode("§cab") == model.encode(["c", "a", "b"])
    assert model.classes == ["1", "2", "3", "4"]
    assert model.sop == "hist_bos" and model.bos == "§" and model.max_len == 4
    assert model.weights["embedding"].shape == (5, 16)
    assert model.config["causal"] is False


def test_decoder_attention_is_causal():
    model = rasp.load_trained(DATA / "trained_running_count")
    assert model.config["causal"] is True
    for layer in model.attention("abba"):
        for head in layer:
            # No query attends to a later key, and every row sums to 1.
            np.testing.assert_allclose(np.triu(head, k=1), 0.0, atol=1e-6)
            np.testing.assert_allclose(head.sum(axis=-1), 1.0, atol=1e-5)


def test_padding_does_not_change_the_real_positions():
    model = rasp.load_trained(DATA / "trained_hist")
    short, long = model.encode("ab"), model.encode("abca")
    ids = [short + [0] * (len(long) - len(short)), long]
    mask = [[1] * len(short) + [0] * (len(long) - len(short)), [1] * len(long)]
    batch = model.forward_ids(ids, mask)
    np.testing.assert_allclose(batch[0, : len(short)], model.logits("ab"), atol=1e-5)
    np.testing.assert_allclose(batch[1], model.logits("abca"), atol=1e-5)


def test_bad_inputs_and_folders_raise(tmp_path):
    model = rasp.load_trained(DATA / "trained_hist")
    with pytest.raises(rasp.RaspInputError, match="not in the model's vocabulary"):
        model.predict("abz")
    with pytest.raises(rasp.RaspInputError, match="1 to 4 tokens"):
        model.predict("abcab")
    with pytest.raises(rasp.RaspIOError):
        rasp.load_trained(tmp_path / "missing")

    folder = tmp_path / "hostile"
    shutil.copytree(DATA / "trained_hist", folder)
    metrics = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
    metrics["model"]["d_model"] = 10**9
    (folder / "metrics.json").write_text(json.dumps(metrics), encoding="utf-8")
    with pytest.raises(rasp.ModelError, match="outside the trainable sizes"):
        rasp.load_trained(folder)

    shutil.copy(DATA / "trained_hist" / "metrics.json", folder / "metrics.json")
    weights = (folder / "model.safetensors").read_bytes()
    (folder / "model.safetensors").write_bytes(weights[: len(weights) // 2])
    with pytest.raises(rasp.ModelError, match="offsets"):
        rasp.load_trained(folder)


@pytest.mark.skipif(not HAVE_TORCH, reason="PyTorch is not installed")
@pytest.mark.parametrize("folder", FOLDERS)
def test_torch_module_equals_numpy(folder):
    import torch

    model = rasp.load_trained(DATA / folder)
    module = model.to_torch()
    assert set(module.state_dict()) == set(model.weights)
    for word in expected(folder):
        ids = torch.tensor([model.encode(word)])
        with torch.no_grad():
            logits = module(ids)[0].numpy()
        np.testing.assert_allclose(logits, model.logits(word), atol=1e-4, err_msg=word)
