#!/usr/bin/env python3
"""Check DIR/model.onnx (written by `rasp compile --onnx`) with the onnx
checker and run it in onnxruntime on INPUT; prints the decoded output as a
JSON list, like forward.py. Needs numpy, onnx and onnxruntime.

    python3 check_onnx.py DIR INPUT
"""

import json
import os
import sys

import numpy as np
import onnx
import onnxruntime

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import forward  # noqa: E402


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    directory, text = argv[1], argv[2]
    path = f"{directory}/model.onnx"
    onnx.checker.check_model(onnx.load(path), full_check=True)
    with open(f"{directory}/model.json", encoding="utf-8") as f:
        config = json.load(f)
    ids = np.array([forward.tokenize(text, config)], dtype=np.int64)
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    (readout,) = session.run(["readout"], {"ids": ids})
    out = readout[0, 1:]
    values = config["readout"]["values"]
    if config["readout"]["encoding"] == "categorical":
        decoded = [values[int(i)] for i in out.argmax(axis=1)]
    else:
        numbers = np.array([float(v) for v in values])
        decoded = [values[int(np.abs(numbers - float(y)).argmin())] for y in out[:, 0]]
    print(json.dumps(decoded, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
