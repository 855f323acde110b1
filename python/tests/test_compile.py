"""rasp.compile: the compiled model's outputs equal the interpreter's on
every input up to max_len, its weights run in plain numpy give the same
residual stream, and it saves and loads back."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import words

import rasp


@pytest.fixture(scope="module")
def reverse_model(reverse_source):
    return rasp.compile(reverse_source, "reverse", vocab="abc", max_len=5)


@pytest.fixture(scope="module")
def hist_model(histogram_source):
    return rasp.compile(histogram_source, "hist_bos", vocab=["a", "b", "c"], max_len=5, bos="§")


def numpy_forward(model, tokens):
    """The forward pass model.json states, written out in numpy."""
    config, w = model.config, model.weights
    ids = model.encode(tokens)
    x = w["embed.tokens"][ids] + w["embed.positions"][: len(ids)]
    for index, layer in enumerate(config["layers"]):
        update = np.zeros_like(x)
        for h, head in enumerate(layer["heads"]):
            p = f"layers.{index}.heads.{h}"
            logits = head["scale"] * (x @ w[f"{p}.w_q"]) @ (x @ w[f"{p}.w_k"]).T
            pattern = np.exp(logits - logits.max(axis=1, keepdims=True))
            pattern /= pattern.sum(axis=1, keepdims=True)
            update += pattern @ (x @ w[f"{p}.w_v"]) @ w[f"{p}.w_o"]
        x = x + update
        if layer["mlp_hidden"]:
            x = (
                x
                + np.maximum(x @ w[f"layers.{index}.mlp.w_in"], 0) @ w[f"layers.{index}.mlp.w_out"]
            )
    return x


def test_reverse_equals_the_interpreter_on_every_input(reverse_source, reverse_model):
    program = rasp.Program(reverse_source)
    every = words("abc", 5)
    assert len(every) == 3 + 9 + 27 + 81 + 243
    outputs = reverse_model.forward_batch(every)
    for word, output in zip(every, outputs):
        assert output == program.run("reverse", word) == word[::-1]
    assert reverse_model.forward("cab") == ["b", "a", "c"]


def test_histogram_with_bos_equals_the_interpreter_on_every_input(histogram_source, hist_model):
    program = rasp.Program(histogram_source)
    for word in words("abc", 5):
        expected = program.run("hist_bos", ["§", *word])
        # the BOS position counts too: it gets 0
        assert expected == [0] + [word.count(t) for t in word]
        assert hist_model.forward(word) == expected


def test_verify_reports_no_mismatch(reverse_model, hist_model):
    report = reverse_model.verify()
    assert report["mismatches"] == 0 and report["examples"] == []
    assert report["exhaustive"] is True
    assert report["inputs_checked"] == 3 + 9 + 27 + 81 + 243
    assert report["sop"] == "reverse" and report["vocab"] == ["a", "b", "c"]
    assert report["min_margin"] > 0.5 and report["seconds"] >= 0
    report = hist_model.verify()
    assert (report["mismatches"], report["bos"], report["max_len"]) == (0, "§", 5)
    sampled = hist_model.verify(exhaustive_limit=10, sample=5, seed=7)
    assert sampled["exhaustive"] is False and sampled["seed"] == 7
    assert [length["checked"] for length in sampled["lengths"]] == [3, 5, 5, 5, 5]


@pytest.mark.parametrize(
    ("sop", "vocab", "bos", "max_len"),
    [
        ("reverse", "abcd", None, 4),
        ("hist_bos", "abcd", "§", 4),
        ("sort_bos", "abcd", "§", 4),
        ("sort_by_most_freq", "abc", "§", 4),
        ("dyck1_ptf", "(,)", None, 8),
        ("dyck2_ptf", "(,),{,}", None, 4),
    ],
)
def test_paper_programs_equal_the_interpreter(paper_source, sop, vocab, bos, max_len):
    model = rasp.compile(paper_source, sop, vocab, max_len, bos=bos)
    report = model.verify()
    assert (report["mismatches"], report["exhaustive"]) == (0, True)
    program = rasp.Program(paper_source)
    every = words(model.vocab, max_len)
    assert report["inputs_checked"] + report["undefined"] == len(every)
    prefix = [bos] if bos else []
    for word, output in zip(every, model.forward_batch(every)):
        assert output == program.run(sop, prefix + word), word


def test_dyck_answers(paper_source):
    dyck = rasp.compile(paper_source, "dyck1_ptf", "(,)", 6)
    assert dyck.forward("(())") == ["P", "P", "P", "T"]
    assert dyck.forward("())(") == ["P", "T", "F", "F"]


def test_config_tokens_and_encoding(hist_model):
    config = hist_model.config
    assert config["format"] == "rasp-compiled-transformer"
    assert config["tokens"] == ["<start>", "§", "a", "b", "c"] == hist_model.tokens
    assert (hist_model.vocab, hist_model.bos, hist_model.max_len) == (["a", "b", "c"], "§", 5)
    assert hist_model.encode("cab") == [0, 1, 4, 2, 3]
    assert hist_model.encode(["a"]) == [0, 1, 2]
    config["vocab"].append("mutated")
    assert hist_model.config["vocab"] == ["a", "b", "c"]


def test_weights_run_in_numpy_give_the_residual_stream(reverse_model, hist_model):
    for model, word in [(reverse_model, "abcab"), (hist_model, "abb")]:
        weights = model.weights
        assert all(a.dtype == np.float32 and a.ndim == 2 for a in weights.values())
        d_model = model.config["d_model"]
        assert weights["embed.tokens"].shape == (len(model.tokens), d_model)
        assert len(model.residual_labels) == d_model
        assert model.residual_labels[:2] == ["start", "one"]
        residual = model.residual(word)
        assert residual.shape == (len(model.encode(word)), d_model)
        np.testing.assert_allclose(numpy_forward(model, word), residual, atol=1e-4)
        # a copy: changing it changes nothing
        weights["unembed"][:] = 0
        assert model.weights["unembed"].any()


def test_decode_residual_and_logits(reverse_model, hist_model):
    for model, word in [(reverse_model, "abcab"), (hist_model, "abb")]:
        expected = model.forward(word)
        residual = model.residual(word)
        logits = model.logits(word)
        readout = model.config["readout"]
        width = len(readout["values"]) if readout["encoding"] == "categorical" else 1
        assert logits.shape == (residual.shape[0] - 1, width)
        np.testing.assert_allclose(logits, residual[1:] @ model.weights["unembed"], atol=1e-5)
        assert model.decode(residual) == expected
        assert model.decode(logits) == expected
        assert model.decode(residual, kind="residual") == expected
        values, margins = model.decode(logits, margins=True)
        assert values == expected and all(0.5 < m <= 1.0 + 1e-6 for m in margins)
        assert model.decode(np.stack([residual, residual])) == [expected, expected]
    # a categorical readout decodes by argmax over its values
    values = reverse_model.config["readout"]["values"]
    scores = np.eye(len(values), dtype=np.float32)
    assert reverse_model.decode(scores, kind="logits") == values
    with pytest.raises(rasp.RaspInputError, match="cannot decode"):
        reverse_model.decode(np.zeros((3, 7)))
    with pytest.raises(rasp.RaspInputError, match="columns"):
        reverse_model.decode(np.zeros((3, 7)), kind="logits")
    with pytest.raises(rasp.RaspInputError, match="2-d"):
        reverse_model.decode(np.zeros(3))


def test_numerical_output(histogram_source):
    model = rasp.compile(histogram_source, "hist", "abc", 4, encodings={"hist": "numerical"})
    assert model.config["readout"]["encoding"] == "numerical"
    assert model.forward("aab") == [2, 2, 1]
    logits = model.logits("aab")
    assert logits.shape == (3, 1)
    np.testing.assert_allclose(logits[:, 0], [2, 2, 1], atol=1e-3)
    assert model.decode(np.array([[0.9], [3.2]], dtype=np.float32)) == [1, 3]
    assert model.verify()["mismatches"] == 0


def test_save_and_load(hist_model, tmp_path):
    folder = hist_model.save(tmp_path / "nested" / "hist", onnx=True)
    names = {p.name for p in folder.iterdir()}
    assert {"model.json", "model.safetensors", "program.rasp", "model.onnx"} <= names
    assert json.loads((folder / "model.json").read_text(encoding="utf-8")) == hist_model.config
    loaded = rasp.load_model(folder)
    assert loaded.config == hist_model.config and loaded.sop == "hist_bos"
    for name, array in hist_model.weights.items():
        np.testing.assert_array_equal(loaded.weights[name], array)
    for word in words("abc", 3):
        assert loaded.forward(word) == hist_model.forward(word)
    assert loaded.verify()["mismatches"] == 0
    assert "hist_bos" in loaded.summary() and "hist_bos" in repr(loaded)


def test_models_keep_the_files_their_program_loaded(tmp_path, monkeypatch):
    (tmp_path / "lib.rasp").write_text("flip = select(indices, length - indices - 1, ==);\n")
    monkeypatch.chdir(tmp_path)
    model = rasp.compile('load "lib";\nrev = aggregate(flip, tokens);\n', "rev", "ab", 3)
    folder = model.save(tmp_path / "rev")
    (tmp_path / "lib.rasp").unlink()
    loaded = rasp.load_model(folder)
    assert loaded.forward("aab") == ["b", "a", "a"]
    assert loaded.verify()["mismatches"] == 0


def test_attention_patterns(reverse_model):
    word = "abcab"
    patterns = reverse_model.attention(word)
    layers = reverse_model.config["layers"]
    assert [len(heads) for heads in patterns] == [len(layer["heads"]) for layer in layers]
    n = len(reverse_model.encode(word))
    for heads in patterns:
        for pattern in heads:
            assert pattern.shape == (n, n)
            np.testing.assert_allclose(pattern.sum(axis=1), 1, atol=1e-5)
    # The flip head (the second layer's) sends word position i to n - 1 - i
    # (position 0 of the matrix is the start token).
    (flip,) = patterns[1]
    assert [int(np.argmax(row[1:])) for row in flip[1:]] == [4, 3, 2, 1, 0]
