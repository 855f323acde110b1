"""Model.transformer_lens_config / transformer_lens_state_dict /
to_transformer_lens: the compiled model in TransformerLens's terms.

The state dict is checked twice: run by a numpy transcription of
TransformerLens's forward pass (tests/reference.py, always), and loaded
into a real HookedTransformer (when torch and transformer_lens<4 are
installed, as .ci/run installs them). Both must give, on every input up to
max_len, the interpreter's outputs, and rasp's own residual stream after
every layer to 1e-5.
"""

from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pytest
from conftest import words
from reference import rasp_forward, transformer_lens_forward

import rasp

HAVE_LENS = (
    importlib.util.find_spec("torch") is not None
    and importlib.util.find_spec("transformer_lens") is not None
)

PAPER_PROGRAMS = [
    ("reverse", "abc", None, 4),
    ("hist_bos", "abc", "§", 4),
    ("sort_bos", "abc", "§", 4),
    ("sort_by_most_freq", "abc", "§", 4),
    ("dyck1_ptf", "(,)", None, 6),
    ("dyck2_ptf", "(,),{,}", None, 4),
]


@pytest.fixture(scope="module")
def paper_models(paper_source):
    return {
        sop: rasp.compile(paper_source, sop, vocab, max_len, bos=bos)
        for sop, vocab, bos, max_len in PAPER_PROGRAMS
    }


def expected_outputs(program, model, word):
    """The interpreter's output on [bos] + word, or None where it fails."""
    prefix = [model.bos] if model.bos else []
    try:
        return program.run(model.sop, prefix + word)
    except rasp.RaspEvaluationError:
        return None


def test_config_of_reverse(reverse_source):
    model = rasp.compile(reverse_source, "reverse", "abc", 4)
    config = model.transformer_lens_config()
    layers = model.config["layers"]
    # Worked out from model.json: two layers of one head each; the widest
    # head is the second (d_head 5, d_value 3); the first layer's MLP has
    # 22 hidden units, the second none; tokens <start> a b c; positions
    # start + 4; the output reverse takes 0 (nothing selected), a, b, c.
    # TransformerLens's view adds the padding token, one residual dimension
    # and one query/key column for it.
    assert [len(layer["heads"]) for layer in layers] == [1, 1]
    assert [layer["mlp_hidden"] for layer in layers] == [22, 0]
    assert (config["n_layers"], config["d_model"], config["n_heads"]) == (2, 16, 1)
    assert (config["d_head"], config["d_mlp"], config["n_ctx"]) == (6, 22, 5)
    assert (config["d_vocab"], config["d_vocab_out"]) == (5, 4)
    assert config["act_fn"] == "relu" and config["normalization_type"] is None
    assert config["attention_dir"] == "bidirectional"
    assert config["use_attn_result"] and config["use_split_qkv_input"]
    assert config["use_hook_mlp_in"] and not config["use_attn_scale"]
    assert model.output_values == [0, "a", "b", "c"]
    assert model.loss_mask == [False, True, True, True, True]


def test_loss_mask_leaves_out_bos(paper_models):
    assert paper_models["sort_bos"].loss_mask == [False, False, True, True, True, True]


def test_state_dict_shapes_and_padding(paper_models):
    model = paper_models["sort_by_most_freq"]
    config, state = model.transformer_lens_config(), model.transformer_lens_state_dict()
    n_heads, d_model, d_head = config["n_heads"], config["d_model"], config["d_head"]
    assert n_heads == max(len(layer["heads"]) for layer in model.config["layers"]) > 1
    for index, layer in enumerate(model.config["layers"]):
        b = f"blocks.{index}"
        for name in ("W_Q", "W_K", "W_V"):
            assert state[f"{b}.attn.{name}"].shape == (n_heads, d_model, d_head)
        assert state[f"{b}.attn.W_O"].shape == (n_heads, d_head, d_model)
        assert state[f"{b}.mlp.W_in"].shape == (d_model, config["d_mlp"])
        # heads the layer does not have are zero
        for h in range(len(layer["heads"]), n_heads):
            assert not state[f"{b}.attn.W_V"][h].any() and not state[f"{b}.attn.W_O"][h].any()
        for h, head in enumerate(layer["heads"]):
            w_q = model.weights[f"layers.{index}.heads.{h}.w_q"]
            np.testing.assert_allclose(
                state[f"{b}.attn.W_Q"][h, :-1, : w_q.shape[1]], head["scale"] * w_q, rtol=1e-6
            )
        # The padding column: a constant query of 1 against the padding
        # dimension's key, so a PAD key scores -1e6 in every head.
        assert (state[f"{b}.attn.b_Q"][:, -1] == 1).all() and not state[f"{b}.attn.b_Q"][
            :, :-1
        ].any()
        assert (state[f"{b}.attn.W_K"][:, -1, -1] == -1e6).all()
        assert not state[f"{b}.attn.W_Q"][:, :, -1].any()
    zero_biases = [n for n in state if (".b_" in n and not n.endswith("b_Q")) or n.endswith("b_U")]
    assert all(not state[name].any() for name in zero_biases)
    # Only the padding token writes the padding dimension.
    assert list(np.nonzero(state["embed.W_E"][:, -1])[0]) == [len(model.tokens)]


def test_unembed_reads_only_the_output(paper_models):
    for model in paper_models.values():
        w_u = model.transformer_lens_state_dict()["unembed.W_U"]
        config = model.config
        (output,) = [s for s in config["subspaces"] if s["name"].split("#")[0] == model.sop]
        read = set(np.nonzero(np.abs(w_u).sum(axis=1))[0])
        one = next(s["dims"] for s in config["subspaces"] if s["name"] == "one")
        assert read <= set(output["dims"]) | set(one), model.sop
        assert len(model.output_values) == w_u.shape[1] or w_u.shape[1] == 1


@pytest.mark.parametrize(("sop", "vocab", "bos", "max_len"), PAPER_PROGRAMS)
def test_numpy_transformer_lens_forward_equals_the_model(
    paper_source, paper_models, sop, vocab, bos, max_len
):
    model = paper_models[sop]
    program = rasp.Program(paper_source)
    config, state = model.transformer_lens_config(), model.transformer_lens_state_dict()
    weights, rasp_config = model.weights, model.config
    checked = 0
    for word in words(model.vocab, max_len):
        ids = model.encode(word)
        logits, posts = transformer_lens_forward(config, state, ids)
        for post, after in zip(posts, rasp_forward(rasp_config, weights, ids)):
            # The last dimension is the padding's, 0 at every real token.
            np.testing.assert_allclose(post[:, :-1], after, atol=1e-5)
            assert not post[:, -1].any()
        np.testing.assert_allclose(logits[1:], model.logits(word), atol=1e-5)
        expected = expected_outputs(program, model, word)
        if expected is not None:
            assert model.decode(logits[1:]) == expected, word
            checked += 1
    assert checked > 0.5 * len(words(model.vocab, max_len))


def test_without_transformer_lens_the_message_says_how_to_install_it(reverse_source, monkeypatch):
    model = rasp.compile(reverse_source, "reverse", "ab", 3)
    # As if TransformerLens were not installed: importing it raises ImportError.
    monkeypatch.setitem(sys.modules, "transformer_lens", None)
    with pytest.raises(ImportError, match="transformer_lens"):
        model.to_transformer_lens()


@pytest.mark.skipif(not HAVE_LENS, reason="torch or transformer_lens is not installed")
@pytest.mark.parametrize(("sop", "vocab", "bos", "max_len"), PAPER_PROGRAMS)
def test_hooked_transformer_equals_the_interpreter(
    paper_source, paper_models, sop, vocab, bos, max_len
):
    import torch
    from transformer_lens import HookedTransformer

    model = paper_models[sop]
    hooked = model.to_transformer_lens()
    # The residual streams are compared in float64, where summation order
    # does not matter: the conversion is exact, and so is the agreement. In
    # float32 the decoded outputs are checked.
    exact = model.to_transformer_lens(dtype="float64")
    assert isinstance(hooked, HookedTransformer)
    assert hooked.cfg.attention_dir == "bidirectional" and hooked.cfg.d_vocab_out == len(
        hooked.W_U[0]
    )
    program = rasp.Program(paper_source)
    rasp_config = model.config
    weights64 = {name: array.astype(np.float64) for name, array in model.weights.items()}
    every = words(model.vocab, max_len)
    checked = 0
    for length in range(1, max_len + 1):
        batch = [w for w in every if len(w) == length]
        ids = torch.tensor([model.encode(w) for w in batch])
        with torch.no_grad():
            logits = hooked(ids)
            _, cache = exact.run_with_cache(ids)
        for b, word in enumerate(batch):
            after = rasp_forward(rasp_config, weights64, model.encode(word))
            for layer, expected_post in enumerate(after):
                post = cache[f"blocks.{layer}.hook_resid_post"][b].numpy()
                np.testing.assert_allclose(post[:, :-1], expected_post, atol=1e-5)
            expected = expected_outputs(program, model, word)
            if expected is not None:
                assert model.decode(logits[b, 1:].numpy()) == expected, word
                checked += 1
    assert checked > 0.5 * len(every)
    # the hooks circuit-discovery code patches are there
    for hook in ("blocks.0.hook_q_input", "blocks.0.attn.hook_result", "blocks.0.hook_mlp_in"):
        assert hook in cache


def test_a_causal_model_is_a_causal_hooked_transformer():
    # `length` seen by a decoder: position i counts the i + 1 tokens up to it.
    source = "n = length;\n"
    causal = rasp.compile(source, "n", vocab="ab", max_len=4, causal=True)
    assert causal.config["causal"] is True and causal.config["prefix_len"] is None
    assert causal.verify()["mismatches"] == 0
    config, state = causal.transformer_lens_config(), causal.transformer_lens_state_dict()
    assert config["attention_dir"] == "causal"
    for word in words(["a", "b"], 4):
        expected = list(range(1, len(word) + 1))
        assert causal.forward(word) == expected, word
        logits, _ = transformer_lens_forward(config, state, causal.encode(word))
        assert causal.decode(logits[1:]) == expected, word
    # The same program compiled without the mask counts the whole word.
    encoder = rasp.compile(source, "n", vocab="ab", max_len=4)
    assert encoder.transformer_lens_config()["attention_dir"] == "bidirectional"
    assert encoder.forward("abb") == [3, 3, 3]


@pytest.mark.skipif(not HAVE_LENS, reason="torch or transformer_lens is not installed")
def test_padded_batches_in_transformer_lens(paper_models):
    """Words of different lengths in one batch, padded with the PAD id and
    no attention mask (TransformerLens ignores it for bidirectional
    attention): the real positions compute what each word alone computes."""
    import torch

    model = paper_models["sort_bos"]
    hooked = model.to_transformer_lens()
    pad = len(model.tokens)
    batch = [["a"], ["c", "a"], ["b", "c", "a"], ["c", "b", "a", "a"]]
    width = max(len(model.encode(w)) for w in batch)
    ids = [model.encode(w) + [pad] * (width - len(model.encode(w))) for w in batch]
    with torch.no_grad():
        logits = hooked(torch.tensor(ids)).numpy()
    for row, word in zip(logits, batch):
        real = len(model.encode(word))
        assert model.decode(row[1:real]) == model.forward(word), word
        with torch.no_grad():
            alone = hooked(torch.tensor([model.encode(word)])).numpy()[0]
        np.testing.assert_allclose(row[:real], alone, atol=1e-4)
