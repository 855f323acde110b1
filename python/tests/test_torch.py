"""Model.to_torch(): the same forward pass as a plain torch.nn.Module.

.ci/run installs PyTorch (the PyPI build), so these run in CI; without it
the module test is skipped and only the missing-torch message is checked.
"""

from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pytest
from conftest import words

import rasp

HAVE_TORCH = importlib.util.find_spec("torch") is not None


def test_without_torch_the_message_says_how_to_install_it(reverse_source, monkeypatch):
    model = rasp.compile(reverse_source, "reverse", "ab", 3)
    # As if PyTorch were not installed: importing it raises ImportError.
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ImportError, match="pip install torch"):
        model.to_torch()


@pytest.mark.skipif(not HAVE_TORCH, reason="PyTorch is not installed")
@pytest.mark.parametrize(
    ("program", "sop", "vocab", "bos", "max_len"),
    [
        ("reverse", "reverse", "abc", None, 4),
        ("histogram", "hist_bos", "abc", "§", 4),
        ("paper", "sort_bos", "abc", "§", 4),
        ("paper", "dyck1_ptf", "(,)", None, 6),
    ],
)
def test_torch_module_equals_the_model(
    program, sop, vocab, bos, max_len, reverse_source, histogram_source, paper_source
):
    import torch

    source = {"reverse": reverse_source, "histogram": histogram_source, "paper": paper_source}
    model = rasp.compile(source[program], sop, vocab, max_len, bos=bos)
    module = model.to_torch()
    assert isinstance(module, torch.nn.Module)
    assert set(module.state_dict()) == set(model.weights)
    every = words(model.vocab, max_len)
    for length in range(1, max_len + 1):
        batch = [w for w in every if len(w) == length]
        ids = torch.tensor([model.encode(w) for w in batch])
        with torch.no_grad():
            residual = module.residual_stream(ids)
            scores = module(ids)
        for word, r, s in zip(batch, residual.numpy(), scores.numpy()):
            np.testing.assert_allclose(r, model.residual(word), atol=1e-5)
            np.testing.assert_allclose(s, model.logits(word), atol=1e-5)
            assert model.decode(s) == model.forward(word)
