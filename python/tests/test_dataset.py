"""Model.dataset: clean and corrupted inputs, correct outputs and the metric,
checked against outputs worked out independently (reversing, counting)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

import rasp

HAVE_LENS = (
    importlib.util.find_spec("torch") is not None
    and importlib.util.find_spec("transformer_lens") is not None
)


@pytest.fixture(scope="module")
def reverse_model(paper_source):
    return rasp.compile(paper_source, "reverse", "abc", 4)


def test_reverse_dataset(reverse_model):
    data = reverse_model.dataset(50, seed=3)
    assert len(data) == 50 and data.clean_ids.shape == (50, 5)
    assert list(data.loss_mask) == [False, True, True, True, True]
    values = data.output_values
    for word, bad, labels, ids in zip(data.clean, data.corrupted, data.labels, data.clean_ids):
        assert len(word) == len(bad) == 4
        assert [values[j] for j in labels[1:]] == word[::-1]
        assert labels[0] == -1
        assert bad[::-1] != word[::-1]  # the corruption changes the output
        assert list(ids) == [0] + ["abc".index(t) + 1 for t in word]
    assert data.metric(data.clean_logits) == pytest.approx(0, abs=1e-9)
    assert data.metric(data.corrupted_logits) > 0.1
    assert data.accuracy(data.clean_logits) == 1.0
    assert data.accuracy(data.corrupted_logits) < 1.0


def test_same_seed_same_data(reverse_model):
    one, two = reverse_model.dataset(20, seed=7), reverse_model.dataset(20, seed=7)
    assert one.clean == two.clean and one.corrupted == two.corrupted
    np.testing.assert_array_equal(one.clean_ids, two.clean_ids)
    np.testing.assert_array_equal(one.labels, two.labels)
    assert reverse_model.dataset(20, seed=8).clean != one.clean


def test_bos_and_shorter_words(paper_source):
    model = rasp.compile(paper_source, "sort_bos", "abc", 5, bos="§")
    data = model.dataset(30, seed=1, length=3)
    assert data.clean_ids.shape == (30, 5)
    assert list(data.loss_mask) == [False, False, True, True, True]
    for word, labels in zip(data.clean, data.labels):
        assert [data.output_values[j] for j in labels[2:]] == sorted(word)
        assert list(labels[:2]) == [-1, -1]


def test_numerical_output_uses_squared_error(histogram_source):
    model = rasp.compile(histogram_source, "hist", "abc", 4, encodings={"hist": "numerical"})
    data = model.dataset(20, seed=2)
    assert data.encoding == "numerical"
    for word, labels in zip(data.clean, data.labels):
        assert list(labels[1:]) == [float(word.count(t)) for t in word]
    assert data.metric(data.clean_logits) < 1e-4
    # shifting every output by 1 costs exactly 1
    assert data.metric(data.clean_logits + 1) == pytest.approx(1, abs=1e-2)
    assert data.accuracy(data.clean_logits) == 1.0


def test_bad_arguments(reverse_model):
    with pytest.raises(rasp.RaspInputError, match="n must be"):
        reverse_model.dataset(0)
    with pytest.raises(rasp.RaspInputError, match="longer than"):
        reverse_model.dataset(3, length=9)
    data = reverse_model.dataset(3)
    with pytest.raises(rasp.RaspInputError, match="do not fit"):
        data.metric(np.zeros((3, 2, 4)))


def test_constant_output_has_no_corruption():
    model = rasp.compile("zero = indices - indices;", "zero", "ab", 2)
    with pytest.raises(rasp.ModelError, match="differs"):
        model.dataset(2)


@pytest.mark.skipif(not HAVE_LENS, reason="torch or transformer_lens is not installed")
def test_activation_patching_finds_the_flip_head(reverse_model):
    """Patching the flip head's output from the corrupted run breaks the
    answer; patching the first head (which computes the length, the same in
    both runs) changes nothing."""
    import torch

    hooked = reverse_model.to_transformer_lens()
    data = reverse_model.dataset(40, seed=5)
    clean = torch.tensor(data.clean_ids)
    with torch.no_grad():
        _, corrupted_cache = hooked.run_with_cache(torch.tensor(data.corrupted_ids))
        logits = hooked(clean)
        assert float(data.metric(logits)) == pytest.approx(0, abs=1e-6)
        effects = {}
        for layer in range(2):
            name = f"blocks.{layer}.attn.hook_result"

            def patch(result, hook, name=name):
                return corrupted_cache[name]

            patched = hooked.run_with_hooks(clean, fwd_hooks=[(name, patch)])
            effects[layer] = float(data.metric(patched))
    assert effects[0] == pytest.approx(0, abs=1e-6)
    assert effects[1] > 0.1
    assert effects[1] == pytest.approx(data.metric(data.corrupted_logits), rel=1e-3)
