"""A model folder that needs no rasp to load: TransformerLens's config and
weights, the token map, the output map, the loss mask and the circuit, with
rasp's own folder beside them (``Model.save_pretrained``).

Files (all written atomically; the same model gives the same bytes):

``config.json``
    ``HookedTransformerConfig`` fields (:func:`rasp.lens.transformer_lens_config`):
    ``HookedTransformerConfig(**json.load(f))``.
``model.safetensors``
    The weights under TransformerLens's names and shapes
    (:func:`rasp.lens.transformer_lens_state_dict`), float32, tensors in
    name order: ``HookedTransformer.load_state_dict(..., strict=False)``
    takes them (the missing keys are TransformerLens's buffers).
``tokens.json``
    The token map: ``tokens`` (token id ``i`` is ``tokens[i]``: 0 the
    compiler's start token ``<start>``, which every input begins with; then
    BOS if the model has one; then the vocabulary in the order it was given
    to the compiler), ``ids`` (token -> id), ``start_token``/``start_id``,
    ``bos_token``/``bos_id`` (null without BOS), ``pad_token``/``pad_id``
    (always null: attention is over every position, so a pad token would
    change the outputs; batch words of one length), ``vocab``, ``max_len``.
``outputs.json``
    The output: ``sop``, ``encoding`` (``categorical``: column ``j`` of the
    logits is ``values[j]``, argmax decodes; ``numerical``: one column
    holding the value, rounded to the nearest of ``values``), ``values``,
    ``loss_mask`` (one bool per position of a full-length input: False at
    position 0, the start token, whose logits mean nothing, and at BOS;
    True at the word's positions), ``residual_labels`` (each residual
    dimension's label, in order).
``circuit.json``
    :meth:`rasp.Model.circuit`.
``rasp/``
    The folder :meth:`rasp.Model.save` writes (``rasp verify DIR/rasp`` and
    :func:`rasp.load_model` read it).
"""

from __future__ import annotations

import json
import pathlib
import struct

import numpy as np

from .lens import loss_mask, output_values, transformer_lens_config, transformer_lens_state_dict

FORMAT = "rasp-transformer-lens"
RASP_FOLDER = "rasp"


def _json(value) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def safetensors_bytes(tensors: dict) -> bytes:
    """A safetensors file of float32 arrays, tensors in name order (so the
    same tensors give the same bytes): an 8-byte little-endian header
    length, the JSON header (padded with spaces to a multiple of 8), then
    the raw little-endian data."""
    header = {"__metadata__": {"format": "pt"}}
    chunks, offset = [], 0
    for name in sorted(tensors):
        array = np.ascontiguousarray(tensors[name], dtype="<f4")
        data = array.tobytes()
        header[name] = {
            "dtype": "F32",
            "shape": list(array.shape),
            "data_offsets": [offset, offset + len(data)],
        }
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)


def pretrained_files(model) -> list:
    """(name, bytes) for every file of the folder except ``rasp/``."""
    config = model.config
    tokens = list(config["tokens"])
    bos = config["bos"]
    token_map = {
        "format": FORMAT,
        "tokens": tokens,
        "ids": {token: i for i, token in enumerate(tokens)},
        "start_token": config["start_token"],
        "start_id": 0,
        "bos_token": bos,
        "bos_id": 1 if bos is not None else None,
        "pad_token": None,
        "pad_id": None,
        "vocab": list(config["vocab"]),
        "max_len": config["max_len"],
    }
    readout = config["readout"]
    outputs = {
        "format": FORMAT,
        "sop": readout["sop"],
        "encoding": readout["encoding"],
        "values": output_values(config),
        "loss_mask": loss_mask(config),
        "residual_labels": model.residual_labels,
    }
    return [
        ("config.json", _json(transformer_lens_config(config))),
        (
            "model.safetensors",
            safetensors_bytes(transformer_lens_state_dict(config, model.weights)),
        ),
        ("tokens.json", _json(token_map)),
        ("outputs.json", _json(outputs)),
        ("circuit.json", _json(model.circuit())),
    ]


def is_pretrained_folder(folder: pathlib.Path) -> bool:
    """Whether ``folder`` was written by ``save_pretrained`` (it keeps
    rasp's own folder in ``rasp/``)."""
    return (folder / "tokens.json").is_file() and (folder / RASP_FOLDER / "model.json").is_file()
