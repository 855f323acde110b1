"""Model.circuit(): the ground-truth circuit, checked against what the
program says (worked out by hand for reverse, and against rasp.analyze's
reading of the program graph) and against the network itself (zeroing a
component that the circuit says is off the path changes no output)."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest
from conftest import words
from reference import rasp_forward

import rasp

HAVE_LENS = (
    importlib.util.find_spec("torch") is not None
    and importlib.util.find_spec("transformer_lens") is not None
)


@pytest.fixture(scope="module")
def reverse_model(paper_source):
    return rasp.compile(paper_source, "reverse", "abc", 4)


def sop_name(subspace):
    return subspace.split("#")[0]


def test_reverse_circuit_by_hand(reverse_model):
    circuit = reverse_model.circuit()
    assert circuit["sop"] == "reverse" and circuit["n_layers"] == 2
    ids = [node["id"] for node in circuit["nodes"]]
    # two layers of one head; only the first has an MLP
    assert ids == ["embed", "pos_embed", "a0.0", "m0", "a1.0", "unembed"]
    edges = {
        (e["from"], e["to"], e["input"], sop_name(e["sop"]))
        for e in circuit["edges"]
        if not e["constant"]
    }
    # The paper's reverse: length = 1 / aggregate(select(1, 1, ==),
    # indicator(indices == 0)) (a head averaging indices == 0, which it
    # reads from the position embedding's indices; then the MLP turning it
    # into length - 1 - indices), then the flip head selecting key indices
    # == query length - 1 - indices and carrying tokens.
    assert edges == {
        ("pos_embed", "a0.0", "v", "indices"),
        ("pos_embed", "m0", "mlp", "indices"),
        ("a0.0", "m0", "mlp", "1/length"),
        ("m0", "a1.0", "q", "length - 1 - indices"),
        ("pos_embed", "a1.0", "k", "indices"),
        ("embed", "a1.0", "v", "tokens"),
        ("a1.0", "unembed", "unembed", "reverse"),
    }
    flip = circuit["nodes"][4]
    assert flip["hook"] == "blocks.1.attn.hook_result" and flip["head"] == 0
    assert flip["inputs"]["q"] == "blocks.1.hook_q_input"
    assert flip["selector"].startswith("select(indices, ")
    mlp = circuit["nodes"][3]
    assert mlp["hook"] == "blocks.0.hook_mlp_out" and mlp["inputs"] == {
        "mlp": "blocks.0.hook_mlp_in"
    }
    (reverse,) = [s for s in circuit["sops"] if s["sop"] == "reverse"]
    assert reverse["written_by"] == ["a1.0"] and reverse["read_by"] == ["unembed"]
    head_edges = {(e["from"], e["to"]) for e in circuit["head_edges"] if not e["constant"]}
    assert ("a1.0", "unembed") in head_edges and ("m0", "a1.0") in head_edges


def bare(expression):
    """An expression without brackets and spaces: the circuit writes
    `length - 1 - indices` where the graph's own name (which the analysis
    JSON shows) is `( ( length - 1 ) - indices )`."""
    return "".join(c for c in expression if c not in "() ")


def test_heads_match_the_analysis(paper_source, reverse_model):
    """The analysis reads the program graph: its layers, and each head's
    query and key s-ops, are the circuit's."""
    analysis = rasp.analyze(paper_source, "reverse")
    circuit = reverse_model.circuit()
    heads = [n for n in circuit["nodes"] if n["kind"] == "head"]
    per_layer = [sum(1 for n in heads if n["layer"] == layer) for layer in range(2)]
    assert per_layer == analysis["heads_per_layer"] == [1, 1]
    for detail in analysis["layers_detail"][1:]:
        for h, head in enumerate(detail["heads"]):
            node = next(n for n in heads if n["id"] == f"a{detail['layer'] - 1}.{h}")
            (aggregate,) = head["aggregates"]
            # The same graph node; the circuit names it readably (the
            # analysis's JSON keeps the graph's own name, e.g. `s-op`).
            (computes,) = node["computes"]
            assert computes.endswith(f"#{aggregate['id']}"), (computes, aggregate)
            for role, expected in (("q", head["queries"]), ("k", head["keys"])):
                read = {bare(sop_name(s)) for s in node["reads"][role] if s not in ("one", "start")}
                # constants (the 1 of select(1, 1, ==)) come from `one`
                assert read == {bare(s) for s in expected if s != "1"}, (role, node["reads"])


def test_components_off_the_circuit_do_not_matter(paper_source):
    """Zeroing the output of a head that no edge leads from to the readout
    (through any path) changes no output; zeroing a head on the path does."""
    model = rasp.compile(paper_source, "sort_by_most_freq", "abc", 4, bos="§")
    circuit = model.circuit()
    on_path = {"unembed"}
    for _ in circuit["nodes"]:
        on_path |= {e["from"] for e in circuit["edges"] if e["to"] in on_path and not e["constant"]}
    heads = [n for n in circuit["nodes"] if n["kind"] == "head"]
    assert all(n["id"] in on_path for n in heads)  # the compiler keeps only needed heads
    # so knocking out any head changes some output
    weights, config = model.weights, model.config
    for node in heads:
        knocked = dict(weights)
        knocked[f"layers.{node['layer']}.heads.{node['head']}.w_o"] = np.zeros_like(
            weights[f"layers.{node['layer']}.heads.{node['head']}.w_o"]
        )
        changed = False
        for word in words(model.vocab, 3):
            ids = model.encode(word)
            residual = rasp_forward(config, knocked, ids)[-1]
            if model.decode(residual) != model.forward(word):
                changed = True
                break
        assert changed, node["id"]


def test_circuit_json_is_saved(reverse_model, tmp_path):
    folder = reverse_model.save(tmp_path / "reverse")
    saved = json.loads((folder / "circuit.json").read_text(encoding="utf-8"))
    assert saved == reverse_model.circuit()
    assert rasp.load_model(folder).circuit() == saved


@pytest.mark.skipif(not HAVE_LENS, reason="torch or transformer_lens is not installed")
def test_hooks_exist_in_the_hooked_transformer(paper_source):
    model = rasp.compile(paper_source, "sort_bos", "abc", 3, bos="§")
    hooked = model.to_transformer_lens()
    for node in model.circuit()["nodes"]:
        for hook in [node["hook"], *node["inputs"].values()]:
            assert hook is None or hook in hooked.hook_dict, hook
