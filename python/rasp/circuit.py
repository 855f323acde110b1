"""The ground-truth circuit of a compiled model: which component computes
each s-op, and which components read it, named with TransformerLens's hooks.

A compiled model keeps every s-op in residual dimensions of its own
(``config["subspaces"]``), so what a component reads and writes can be read
off its weights exactly: a head reads the dimensions of the non-zero rows of
``w_q`` (its query input), ``w_k`` (key) and ``w_v`` (value) and writes those
of the non-zero columns of ``w_o``; an MLP reads the non-zero rows of
``w_in`` and writes the non-zero columns of ``w_out``; the token and position
embeddings write the non-zero columns of their tables; the readout reads the
non-zero rows of ``unembed``. Each dimension belongs to one subspace, so
these are sets of s-ops. An edge goes from every component that writes an
s-op, earlier in the network, to every component that reads it, by the
input it reads it through (q, k, v, the MLP's input, the readout): the
circuit is the one the network computes, not one guessed from it.

The ``start`` and ``one`` subspaces are the compiler's constant directions
(attention falls back to the start token; constants and biases come from
``one``): edges through them are marked ``"constant": true``.
"""

from __future__ import annotations

import numpy as np

CONSTANT_SUBSPACES = ("start", "one")


def _nonzero_rows(matrix: np.ndarray) -> list:
    return [int(i) for i in np.nonzero(np.any(matrix != 0, axis=1))[0]]


def _nonzero_cols(matrix: np.ndarray) -> list:
    return [int(i) for i in np.nonzero(np.any(matrix != 0, axis=0))[0]]


def circuit(config: dict, weights: dict) -> dict:
    """The circuit of a compiled model (``model.config``, ``model.weights``)
    as a dict; see :meth:`rasp.Model.circuit` for its fields."""
    owner = {}
    for subspace in config["subspaces"]:
        for dim in subspace["dims"]:
            owner[dim] = subspace["name"]

    def names(dims):
        return sorted({owner[d] for d in dims if d in owner})

    last = config["n_layers"] - 1
    nodes = [
        {
            "id": "embed",
            "kind": "token_embedding",
            "layer": None,
            "head": None,
            "hook": "hook_embed",
            "inputs": {},
            "reads": {},
            "writes": names(_nonzero_cols(weights["embed.tokens"])),
            "computes": [],
            # the sublayer it runs in: embeddings first, then per layer attention, MLP
            "order": -1,
        },
        {
            "id": "pos_embed",
            "kind": "position_embedding",
            "layer": None,
            "head": None,
            "hook": "hook_pos_embed",
            "inputs": {},
            "reads": {},
            "writes": names(_nonzero_cols(weights["embed.positions"])),
            "computes": [],
            "order": -1,
        },
    ]
    for index, layer in enumerate(config["layers"]):
        for h, head in enumerate(layer["heads"]):
            p = f"layers.{index}.heads.{h}"
            nodes.append(
                {
                    "id": f"a{index}.{h}",
                    "kind": "head",
                    "layer": index,
                    "head": h,
                    "hook": f"blocks.{index}.attn.hook_result",
                    "inputs": {
                        role: f"blocks.{index}.hook_{role}_input" for role in ("q", "k", "v")
                    },
                    "reads": {
                        "q": names(_nonzero_rows(weights[f"{p}.w_q"])),
                        "k": names(_nonzero_rows(weights[f"{p}.w_k"])),
                        "v": names(_nonzero_rows(weights[f"{p}.w_v"])),
                    },
                    "writes": names(_nonzero_cols(weights[f"{p}.w_o"])),
                    "computes": [head["computes"]],
                    "selector": head["selector"],
                    "order": 2 * index,
                }
            )
        if layer["mlp_hidden"]:
            p = f"layers.{index}.mlp"
            nodes.append(
                {
                    "id": f"m{index}",
                    "kind": "mlp",
                    "layer": index,
                    "head": None,
                    "hook": f"blocks.{index}.hook_mlp_out",
                    "inputs": {"mlp": f"blocks.{index}.hook_mlp_in"},
                    "reads": {"mlp": names(_nonzero_rows(weights[f"{p}.w_in"]))},
                    "writes": names(_nonzero_cols(weights[f"{p}.w_out"])),
                    "computes": list(layer["mlp_computes"]),
                    "order": 2 * index + 1,
                }
            )
    nodes.append(
        {
            "id": "unembed",
            "kind": "readout",
            "layer": None,
            "head": None,
            # TransformerLens returns the logits; no hook holds them.
            "hook": None,
            # (a model without layers reads the embeddings' sum, which has no hook)
            "inputs": {"unembed": f"blocks.{last}.hook_resid_post" if last >= 0 else None},
            "reads": {"unembed": names(_nonzero_rows(weights["unembed"]))},
            "writes": [],
            "computes": [],
            "order": 2 * config["n_layers"],
        }
    )

    edges = []
    for reader in nodes:
        for role, read in reader["reads"].items():
            for sop in read:
                for writer in nodes:
                    if writer["order"] < reader["order"] and sop in writer["writes"]:
                        edges.append(
                            {
                                "from": writer["id"],
                                "to": reader["id"],
                                "input": role,
                                "sop": sop,
                                "from_hook": writer["hook"],
                                "from_head": writer["head"],
                                "to_hook": reader["inputs"][role],
                                "to_head": reader["head"],
                                "constant": sop in CONSTANT_SUBSPACES,
                            }
                        )
    head_edges = []
    for edge in edges:
        pair = {"from": edge["from"], "to": edge["to"], "constant": edge["constant"]}
        match = [e for e in head_edges if e["from"] == pair["from"] and e["to"] == pair["to"]]
        if match:
            match[0]["constant"] = match[0]["constant"] and pair["constant"]
        else:
            head_edges.append(pair)

    sops = []
    for subspace in config["subspaces"]:
        name = subspace["name"]
        sops.append(
            {
                "name": name,
                "sop": name.split("#")[0],
                "node": subspace["node"],
                "encoding": subspace["encoding"],
                "dims": list(subspace["dims"]),
                "written_by": [n["id"] for n in nodes if name in n["writes"]],
                "read_by": sorted(
                    {n["id"] for n in nodes for read in n["reads"].values() if name in read}
                ),
                "constant": name in CONSTANT_SUBSPACES,
            }
        )
    for node in nodes:
        del node["order"]
    return {
        "format": "rasp-circuit",
        "version": 1,
        "sop": config["readout"]["sop"],
        "n_layers": config["n_layers"],
        "nodes": nodes,
        "edges": edges,
        "head_edges": head_edges,
        "sops": sops,
    }
