"""rasp against tracr on tracr's library programs, measured side by side.

Usage (tracr is not on PyPI; point --tracr at a checkout of
google-deepmind/tracr and run in an environment with jax, dm-haiku, chex,
einops, networkx and numpy installed):

    python python/tools/tracr_compare.py --tracr /path/to/tracr \
        --rasp target/release/rasp [--lengths 5,10] [--programs sort,hist]

For every program of tracr's `compiler/lib.py` listed in PROGRAMS and every
maximum length N, compiles it with tracr (BOS token "BOS", default
mlp_exactness) and measures: layers, heads that do something, d_model,
parameters (all, and non-zero), the cold compile time, the forward pass of
the jit-compiled model on a batch of 64 full-length inputs and on a large
batch, and how many inputs the compiled model gets wrong against tracr's
own RASP evaluator. Then runs `rasp bench-compile --suite tracr --json`,
which compiles the RASP translations in examples/tracr/lib.rasp with rasp
and measures the same columns, and prints both as one markdown table.

Inputs checked for wrong outputs: every word of 1 to N tokens when there are
at most 30,000 in all, else per length every word when there are at most
1,000 and 1,000 seeded random words when there are more (rasp's side uses
the same plan: `verify` with --exhaustive-limit 30000 --sample 1000). An
input counts as wrong when any position decodes to another value than the
evaluator's: categorical outputs by tracr's argmax, numerical outputs to the
nearest value the evaluator produced on the checked inputs (as rasp decodes
to the nearest value of its value set). Inputs on which the evaluator gives
None somewhere (sort_unique with repeated keys) are not compared, on either
side.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

EXHAUSTIVE_LIMIT = 30_000
SAMPLE_PER_LENGTH = 1_000
LARGE_BATCH = 4096
# make_sort's key spacing: the RASP translation uses the same constant.
SORT_SPACING = 10

LETTERS = ["a", "b", "c"]
DIGITS = [1, 2, 3, 4, 5]


@dataclass
class Spec:
    """One tracr library program and its RASP translation."""

    name: str
    build: Callable[[Any, Any], Any]  # (lib, rasp) -> SOp
    vocab: list
    sop: str  # the s-op in examples/tracr/lib.rasp


PROGRAMS = [
    Spec("length", lambda lib, rasp: lib.make_length(), LETTERS, "length_tracr"),
    Spec("reverse", lambda lib, rasp: lib.make_reverse(rasp.tokens), LETTERS, "reverse_tracr"),
    Spec("hist", lambda lib, rasp: lib.make_hist(), LETTERS, "hist_tracr"),
    Spec(
        "sort_unique",
        lambda lib, rasp: lib.make_sort_unique(rasp.tokens, rasp.tokens),
        DIGITS,
        "sort_unique_tracr",
    ),
    Spec(
        "sort",
        lambda lib, rasp: lib.make_sort(
            rasp.tokens, rasp.tokens, max_seq_len=SORT_SPACING, min_key=1
        ),
        DIGITS,
        "sort_tracr",
    ),
    Spec(
        "sort_freq", lambda lib, rasp: lib.make_sort_freq(SORT_SPACING), LETTERS, "sort_freq_tracr"
    ),
    Spec(
        "frac_prevs",
        lambda lib, rasp: lib.make_frac_prevs(rasp.tokens == "a"),
        LETTERS,
        "frac_prevs_tracr",
    ),
    Spec(
        "pair_balance",
        lambda lib, rasp: lib.make_pair_balance(rasp.tokens, "(", ")"),
        ["(", ")"],
        "pair_balance_tracr",
    ),
    Spec("dyck1", lambda lib, rasp: lib.make_shuffle_dyck(["()"]), ["(", ")"], "dyck1_tracr"),
    Spec("dyck2", lambda lib, rasp: lib.make_shuffle_dyck2(), ["(", ")", "{", "}"], "dyck2_tracr"),
    Spec(
        "count_less_freq",
        lambda lib, rasp: lib.make_count_less_freq(2),
        LETTERS,
        "count_less_freq_tracr",
    ),
    Spec("count_a", lambda lib, rasp: lib.make_count(rasp.tokens, "a"), LETTERS, "count_a_tracr"),
]


def words_to_check(vocab: list, max_len: int, seed: int) -> list[list]:
    """The inputs whose outputs are compared (see the module docstring)."""
    total = sum(len(vocab) ** n for n in range(1, max_len + 1))
    rng = random.Random(seed)
    words: list[list] = []
    for n in range(1, max_len + 1):
        if total <= EXHAUSTIVE_LIMIT or len(vocab) ** n <= SAMPLE_PER_LENGTH:
            words.extend(list(w) for w in itertools.product(vocab, repeat=n))
        else:
            words.extend([rng.choice(vocab) for _ in range(n)] for _ in range(SAMPLE_PER_LENGTH))
    return words


def nearest(value: float, choices: list[float]) -> float:
    return min(choices, key=lambda c: abs(c - value))


def median_seconds(run: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure_tracr(spec: Spec, max_len: int, repeat: int) -> dict:
    import jax
    import numpy as np
    from tracr.compiler import compiling, lib
    from tracr.rasp import rasp

    program = spec.build(lib, rasp)
    start = time.perf_counter()
    try:
        model = compiling.compile_rasp_to_model(
            program, vocab=set(spec.vocab), max_seq_len=max_len, compiler_bos="BOS"
        )
    except (ValueError, NotImplementedError, KeyError, TypeError) as error:
        # tracr refuses some programs; the table says so.
        return {"error": f"{type(error).__name__}: {error}"}
    compile_seconds = time.perf_counter() - start

    params = model.params
    d_model = int(params["token_embed"]["embeddings"].shape[1])
    dense = sum(int(np.size(w)) for layer in params.values() for w in layer.values())
    nonzero = sum(
        int(np.count_nonzero(np.asarray(w))) for layer in params.values() for w in layer.values()
    )
    config = model.model_config
    # tracr pads every layer to the same number of heads (and gives an
    # MLP-only layer an empty attention block): count the heads whose
    # query weights are not all zero.
    heads = 0
    for name, layer in params.items():
        if name.endswith("attn/query"):
            w = np.asarray(layer["w"]).reshape(d_model, config.num_heads, config.key_size)
            heads += sum(1 for h in range(config.num_heads) if np.any(w[:, h, :]))
    # tracr's layer i is attention + MLP; count blocks with any weights.
    layers = 0
    for index in range(config.num_layers):
        blocks = [
            w
            for name, layer in params.items()
            if f"/layer_{index}/" in name
            for w in layer.values()
        ]
        if any(np.any(np.asarray(w)) for w in blocks):
            layers += 1

    forward = jax.jit(lambda p, t: model.forward(p, t).unembedded_output)

    def batch_of(size: int) -> Any:
        rng = random.Random(1)
        rows = [
            model.input_encoder.encode(["BOS"] + [rng.choice(spec.vocab) for _ in range(max_len)])
            for _ in range(size)
        ]
        return jax.numpy.array(rows)

    timings = {}
    for size in (64, LARGE_BATCH):
        tokens = batch_of(size)
        forward(params, tokens).block_until_ready()  # trace and compile once
        timings[size] = median_seconds(
            lambda tokens=tokens: forward(params, tokens).block_until_ready(), max(repeat, 5)
        )

    # Wrong inputs against tracr's own evaluator.
    words = words_to_check(spec.vocab, max_len, seed=0x5EED)
    expected = [rasp.evaluate(program, w) for w in words]
    numeric = rasp.is_numerical(program)
    value_set = sorted({v for out in expected for v in out if v is not None}, key=repr)
    numbers = [float(v) for v in value_set] if numeric else []
    wrong = checked = undefined = 0
    by_length: dict[int, list[int]] = {}
    for i, w in enumerate(words):
        by_length.setdefault(len(w), []).append(i)
    for members in by_length.values():
        for chunk_start in range(0, len(members), 1024):
            chunk = members[chunk_start : chunk_start + 1024]
            ids = jax.numpy.array([model.input_encoder.encode(["BOS"] + words[i]) for i in chunk])
            out = np.asarray(forward(params, ids))
            for row, i in zip(out, chunk):
                want = expected[i]
                if any(v is None for v in want):
                    undefined += 1
                    continue
                checked += 1
                row = row[1:]  # the BOS position is not decoded
                if numeric:
                    got = [nearest(float(np.ravel(x)[0]), numbers) for x in row]
                    ok = all(abs(g - float(e)) < 1e-9 for g, e in zip(got, want))
                else:
                    got = model.output_encoder.decode([int(x) for x in row])
                    ok = list(got) == list(want)
                wrong += not ok
    return {
        "layers": layers,
        "heads": heads,
        "d_model": d_model,
        "params": dense,
        "nonzero": nonzero,
        "compile_ms": compile_seconds * 1e3,
        "forward_ms": timings[64] * 1e3,
        "forward_large_ms": timings[LARGE_BATCH] * 1e3,
        "wrong": wrong,
        "checked": checked,
        "undefined": undefined,
    }


def warm_up() -> None:
    """Compiles and runs one small program, so that JAX's start-up is not
    counted in the first program's compile time."""
    from tracr.compiler import compiling, lib

    model = compiling.compile_rasp_to_model(
        lib.make_hist(), vocab={"a"}, max_seq_len=2, compiler_bos="BOS"
    )
    model.apply(["BOS", "a"])


def measure_rasp(rasp_binary: str, lengths: list[int], names: list[str], repeat: int) -> dict:
    """rasp's columns, from `rasp bench-compile --suite tracr --json` (one JSON object a line)."""
    command = [
        rasp_binary,
        "bench-compile",
        "--suite",
        "tracr",
        "--json",
        "--repeat",
        str(repeat),
        "--lengths",
        ",".join(map(str, lengths)),
        "--programs",
        ",".join(names),
    ]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    rows = {}
    for line in output.splitlines():
        row = json.loads(line)
        rows[(row["program"], row["max_len"])] = row
    return rows


def cell(row: dict | None, key: str, digits: int = 0) -> str:
    if row is None:
        return "-"
    if "error" in row:
        return "fails"
    value = row[key]
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--tracr", required=True, type=Path, help="a checkout of google-deepmind/tracr"
    )
    parser.add_argument("--rasp", default="rasp", help="the rasp binary (a release build)")
    parser.add_argument("--lengths", default="5,10", help="maximum lengths, comma-separated")
    parser.add_argument(
        "--programs", default=",".join(s.name for s in PROGRAMS), help="programs, comma-separated"
    )
    parser.add_argument(
        "--repeat", type=int, default=5, help="timed repetitions of rasp's compile and forward"
    )
    parser.add_argument("--json", type=Path, help="also write every measurement here")
    parser.add_argument(
        "--tracr-cache",
        type=Path,
        help="tracr's measurements: read from this file when it exists, else measured and saved "
        "there (tracr's side takes minutes; rasp's is measured again every run)",
    )
    parser.add_argument("--no-rasp", action="store_true", help="measure tracr only")
    args = parser.parse_args()

    sys.path.insert(0, str(args.tracr))
    lengths = [int(n) for n in args.lengths.split(",")]
    wanted = args.programs.split(",")
    unknown = set(wanted) - {s.name for s in PROGRAMS}
    if unknown:
        parser.error(f"unknown programs: {', '.join(sorted(unknown))}")
    specs = [s for s in PROGRAMS if s.name in wanted]

    rasp_rows = (
        {}
        if args.no_rasp
        else measure_rasp(args.rasp, lengths, [s.name for s in specs], args.repeat)
    )
    cache: dict = {}
    if args.tracr_cache and args.tracr_cache.exists():
        cache = json.loads(args.tracr_cache.read_text())
    if any(f"{s.name}/{n}" not in cache for s in specs for n in lengths):
        warm_up()
    results = []
    header = (
        "| program | N | V | layers T / P | heads T / P | d_model T / P | params T / P "
        "| non-zero T / P | compile ms T / P | fwd x64 ms T / P | fwd x4096 ms T / P "
        "| wrong inputs T / P |"
    )
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for spec in specs:
        for n in lengths:
            key = f"{spec.name}/{n}"
            if key not in cache:
                print(f"tracr: {spec.name} N={n} ...", file=sys.stderr, flush=True)
                cache[key] = measure_tracr(spec, n, args.repeat)
                if args.tracr_cache:
                    args.tracr_cache.write_text(json.dumps(cache, indent=2) + "\n")
            t = cache[key]
            p = rasp_rows.get((spec.name, n))
            results.append({"program": spec.name, "max_len": n, "tracr": t, "rasp": p})

            def pair(key: str, digits: int = 0, t: dict = t, p: dict | None = p) -> str:
                return f"{cell(t, key, digits)} / {cell(p, key, digits)}"

            def wrong(row: dict | None) -> str:
                if row is None or "error" in row:
                    return cell(row, "wrong")
                return f"{row['wrong']} of {row['checked']}"

            print(
                f"| {spec.name} | {n} | {len(spec.vocab)} | {pair('layers')} | {pair('heads')} "
                f"| {pair('d_model')} | {pair('params')} | {pair('nonzero')} "
                f"| {pair('compile_ms', 1)} | {pair('forward_ms', 3)} "
                f"| {pair('forward_large_ms', 2)} | {wrong(t)} / {wrong(p)} |",
                flush=True,
            )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
