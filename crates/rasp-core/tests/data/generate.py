#!/usr/bin/env python3
"""Writes the Python-semantics tables that rasp-core's tests compare against.

    python3.11 crates/rasp-core/tests/data/generate.py          # rewrite all four
    python3.11 crates/rasp-core/tests/data/generate.py --check  # compare, write nothing
    python3.11 crates/rasp-core/tests/data/generate.py --resample 7

Run it with CPython 3.11 (the version whose semantics rasp reproduces; error
texts differ between Python versions). Standard library only. The tables:

ops.txt         A<TAB>OP<TAB>B<TAB>RESULT for every binary operator on every
                pair of the VALUES below, then the EDGE_OPS cases.
                (tests/py_ops.rs, binary_operators_match_python)
unary.txt       OP<TAB>A<TAB>RESULT: neg, pos, round, int, float, truthy over
                UNARY_VALUES (py_ops.rs), and str, repr and the sequence-element
                text `small` (py_fmt.rs, atom_text_matches_python).
float_repr.txt  BITS REPR: the 64 bits of a float in hex, then Python's repr.
round_ndigits.txt  BITS NDIGITS BITS: round(x, ndigits) on the bits of x, or
                `overflow` where Python raises OverflowError.

Operands are written with a tag: `b:True`, `i:<i64>`, `I:<decimal>` (ints
outside i64; `I:2**1100` is the one written as a power), `f:<repr>`,
`s:<raw text>`. Results: `bool:`, `int:<decimal>` (under 1000 bits),
`inthex:<hex>` (under 8000 bits), `intbits:<bits>:<sign>:<low 64 bits of
|n| in hex>`, `float:<repr>`, `str:<text>` (up to 100 characters) or
`strlen:<UTF-8 bytes>:<first 20 characters>`, `text:<text>` (str/repr/small),
`E:<str(exception)>` for a Python exception, `R:<message>` for a RASP error
where rasp deliberately departs from Python (docs/deviations.md):

* a negative number to a fractional power, which Python answers with a
  complex number, is `R:complex numbers are not supported: (A) ^ B`;
* int results of `**` over 1,000,000 bits, and strings over 100,000,000
  bytes, are refused (Python would compute them, for minutes or hours);
* `str % x` where the string holds a `%` (printf-style formatting) is
  `R:string formatting with % is not supported`.

The rasp side of these rules lives in crates/rasp-core/src/pyops.rs; the
functions `rasp_limits` and `binary` below are the Python side.

float_repr.txt and round_ndigits.txt end with a random sample (floats from
random bit patterns, integers, short decimals, ...). The run that drew the
committed sample did not record its seed, so the sample's inputs are data:
this script reads them back from the committed file and recomputes every
output. `--resample SEED` replaces them with a fresh sample (then run
`cargo test -p rasp-core --test py_fmt` and commit the new tables).

To extend a table: add values to VALUES / UNARY_EXTRA_* (the grid grows by
whole rows and columns), a case to EDGE_OPS, a float to FLOAT_REPR_HEAD or
ROUND_HEAD*, then run the script, check `git diff`, and run
`cargo test -p rasp-core --test py_ops --test py_fmt`. If a new case needs a
new rasp deviation, add the rule to `rasp_limits` as well.
"""

import argparse
import math
import random
import struct
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

MAX_POW_BITS = 1_000_000
MAX_STR_BYTES = 100_000_000
SSIZE_MAX = 2**63 - 1
I64 = range(-(2**63), 2**63)


class RaspError(Exception):
    """An error rasp reports as its own (R:), not as Python's (E:)."""


# ---------------------------------------------------------------------------
# Operand encoding

class Operand:
    def __init__(self, value, label=None):
        self.value = value
        self.label = label or tag(value)


def tag(v):
    if isinstance(v, bool):
        return f"b:{v}"
    if isinstance(v, int):
        return f"i:{v}" if v in I64 else f"I:{v}"
    if isinstance(v, float):
        return f"f:{v!r}"
    if isinstance(v, str):
        return f"s:{v}"
    raise TypeError(v)


def op(v, label=None):
    return v if isinstance(v, Operand) else Operand(v, label)


TWO_1100 = Operand(2**1100, "I:2**1100")

# The grid: each binary operator on every pair, each unary one on each value.
VALUES = [op(v) for v in [
    True, False, 0, 1, 3, -7, 2**63 - 1, -(2**63), 60000000, 2**53 + 1,
    2**64, -(2**100)]] + [TWO_1100] + [op(v) for v in [
    2.5, -0.0, -7.5, math.inf, math.nan, 1e308, 0.1, 2.0**53,
    "ab", "", "a%d", "é"]]

UNARY_EXTRA_FLOATS = [
    0.5, 1.5, 2.5, -1.5, -0.5, -2.5, 3.5, 2.0**52 + 1, 1e300, -1e20,
    2.0**63, -(2.0**63), 1e16, 1.2e-05, 0.1 + 0.2, 2.0005, 0.0625, -0.0001,
    1e-07, 123456.789, -math.inf]
UNARY_EXTRA_STRS = ["0", " 12 ", "1.5", "h", "inf", "-nan", "  -3_000  "]
UNARY_VALUES = VALUES + [op(v) for v in UNARY_EXTRA_FLOATS + UNARY_EXTRA_STRS]

BINARY_OPS = ["+", "-", "*", "/", "%", "**", "==", "!=", "<", "<=", ">", ">="]
UNARY_OPS = ["neg", "pos", "round", "int", "float", "truthy", "str", "repr", "small"]

MAX_FLOAT_INT = 2**1024 - 2**971  # int(sys.float_info.max)

# Edge cases after the grid: (a, operator, b).
EDGE_OPS = [
    # floored modulo, signs of zero
    (-7, "%", 3), (7, "%", -3), (-7.5, "%", 2), (7.5, "%", -2), (5, "%", -0.0),
    (-0.0, "%", 5), (0.0, "%", -5), (-6, "%", 3.0), (6.0, "%", -3),
    (-(2**100), "%", 7), (2**100, "%", -7),
    # i64 overflow into big ints
    (-(2**63), "%", -1), (-(2**63), "*", -1), (-(2**63), "-", 1), (2**63 - 1, "+", 1),
    # powers
    (2, "**", 100), (2, "**", -1), (0, "**", -1), (0, "**", 0), (0.0, "**", 0),
    (-2, "**", 63), (-2, "**", 64), (2, "**", 63), (-1, "**", 2**100 + 1),
    (10, "**", -400), (2, "**", 1000000), (2, "**", 999999), (3, "**", 630000),
    (1.5, "**", 10000), (-8, "**", 1 / 3), (-8.0, "**", 2.0), (-8.0, "**", 3.0),
    (-2.0, "**", 0.5), (-math.inf, "**", 3), (-math.inf, "**", 2),
    (-math.inf, "**", -3), (-0.0, "**", 3), (-0.0, "**", -3), (1.0, "**", math.nan),
    (math.nan, "**", 0), (0.5, "**", math.inf), (2.0, "**", -math.inf),
    (-1.0, "**", math.inf), (2.0, "**", -1074.5), (10.0, "**", -320),
    # true division of big ints: correctly rounded, or too large for a float
    (2**1024, "/", 1), (2**2000, "/", 3), (2**2000, "/", 2**1990),
    (1, "/", 2**2000), (-1, "/", 2**1074), (1, "/", 2**1075), (3, "/", 2**1075),
    (0, "/", -5), (0, "/", 2**100), (-(2**100), "/", 2**100), (10**30, "/", 7),
    (2**53 + 1, "/", 1), (2**54 + 1, "/", 1), (2**54 + 3, "/", 1),
    (12345678901234567890123, "/", 98765432109876543),
    (MAX_FLOAT_INT + 2**970, "/", 1), (MAX_FLOAT_INT + 2**970 - 1, "/", 1),
    (2**1024 - 2**969, "/", 1),
    (1, "/", 3), (2, "/", 3),
    # division and modulo by zero
    (1, "/", 0), (1.0, "/", 0), (1, "/", 0.0), (1, "%", 0), (1.0, "%", 0),
    # bools are ints
    (True, "/", False), (True, "/", 2), (True, "+", True), (True, "**", 2),
    (True, "**", -1), (False, "**", -1),
    # string repetition and its limits
    ("ab", "*", -3), (-3, "*", "ab"), ("ab", "*", True), (False, "*", "ab"),
    ("ab", "*", 2**64), ("ab", "*", -(2**64)), ("", "*", 2**64), ("", "*", 2**63 - 1),
    ("ab", "*", 50000000), ("ab", "*", 50000001), ("é", "*", 50000000),
    ("é", "*", 50000001),
    # printf-style formatting
    ("5 %", "%", 3), ("x", "%", "y"),
    # complex results: overflow, or refused
    (-13, "**", 912702.397613373), (-1e300, "**", 1.5), (-1e300, "**", -1.5),
    (-8, "**", -1 / 3),
    (-(2**1100), "**", 0.5),
]

# float_repr.txt: hand-picked floats, then the random sample.
FLOAT_REPR_HEAD = [
    0.0, -0.0, math.inf, -math.inf, math.nan, 0.1 + 0.2, 2.0, 1e17, 1.2e-05,
    1e16, 1e16 - 2, 0.0001, 1e-05, 0.0001234, 123456789012345.6,
    1234567890123456.8, 1.2345678901234568e16, 5e-324, 2.2250738585072014e-308,
    1.7976931348623157e308, 0.1, 1 / 3, 2 / 3, 100.0, 1e22, 1e23, 2.0**53, 0.5,
    -1.5, 1e15, 0.001, 123.456]

# round_ndigits.txt: round(x, 3) on hand-picked floats, then a few floats
# with every NDIGITS, then the random sample.
ROUND_HEAD_3 = [
    0.0625, 1.0005, 0.0005, 2.675, 0.5, 1.5, 2.5, -0.5, -2.5, 0.125, 0.375,
    -0.0001, -0.0, 1e-300, 1e300, 1.7976931348623157e308, 5e-324, 0.0015,
    0.0025, 1234.5675, 2.0005, 1 / 3, math.inf, -math.inf, math.nan,
    4503599627370495.5, 1e20, 123456789.0005, 8.0005, 0.1]
ROUND_HEAD_ALL = [1234.5678, 0.5, 1.5, 2.5, 2.675, 1e300, 1.7e308, 1.75, 0.125,
                  5e-324, 123.456, -987.654321]
NDIGITS = [0, 1, 2, 4, 5, 10, 17, 22, 23, 100, 300, 323, 324, -1, -2, -10, -300, -308, -309]


# ---------------------------------------------------------------------------
# Results

def bits_of(x):
    return struct.unpack(">Q", struct.pack(">d", x))[0]


def float_of(bits):
    return struct.unpack(">d", struct.pack(">Q", bits))[0]


def describe(r):
    if isinstance(r, RaspError):
        return f"R:{r}"
    if isinstance(r, BaseException):
        return f"E:{r}"
    if isinstance(r, bool):
        return f"bool:{r}"
    if isinstance(r, int):
        n = abs(r).bit_length()
        if n < 1000:
            return f"int:{r}"
        if n < 8000:
            return f"inthex:{r:x}"
        return f"intbits:{n}:{'-' if r < 0 else '+'}:{abs(r) % 2**64:016x}"
    if isinstance(r, float):
        return f"float:{r!r}"
    if isinstance(r, str):
        if len(r) <= 100:
            return f"str:{r}"
        return f"strlen:{len(r.encode())}:{r[:20]}"
    raise TypeError(f"unexpected result {r!r}")


def attempt(f):
    try:
        return f()
    except (RaspError, ArithmeticError, TypeError, ValueError) as e:
        return e


def rasp_limits(a, sym, b):
    """The departures from Python listed in the header, checked before
    Python runs the operator (some of these would run for hours)."""
    is_int = lambda v: isinstance(v, int)
    if sym == "**" and is_int(a) and is_int(b) and b > 0 and a not in (-1, 0, 1):
        if b > MAX_POW_BITS or (abs(a).bit_length() - 1) * b + 1 > MAX_POW_BITS:
            raise OverflowError(f"integer result too large (over {MAX_POW_BITS} bits)")
    if sym == "*" and isinstance(a, str) != isinstance(b, str):
        s, n = (a, b) if isinstance(a, str) else (b, a)
        if is_int(n) and 0 < n <= SSIZE_MAX and s and len(s) <= SSIZE_MAX // n:
            if len(s.encode()) * n > MAX_STR_BYTES:
                raise OverflowError(f"string result too large (over {MAX_STR_BYTES} bytes)")
    if sym == "%" and isinstance(a, str) and "%" in a:
        raise RaspError("string formatting with % is not supported")


def binary(a, sym, b):
    rasp_limits(a, sym, b)
    if sym == "**":
        r = pow(a, b)
        if isinstance(r, int) and abs(r).bit_length() > MAX_POW_BITS:
            raise OverflowError(f"integer result too large (over {MAX_POW_BITS} bits)")
        if isinstance(r, complex):
            raise RaspError(f"complex numbers are not supported: ({a!r}) ^ {b!r}")
        return r
    return {
        "+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b,
        "/": lambda: a / b, "%": lambda: a % b,
        "==": lambda: a == b, "!=": lambda: a != b, "<": lambda: a < b,
        "<=": lambda: a <= b, ">": lambda: a > b, ">=": lambda: a >= b,
    }[sym]()


def small(v):
    """How the reference shows one element of a sequence."""
    if isinstance(v, bool):
        return "T" if v else "F"
    if isinstance(v, float):
        return repr(round(v, 3))
    return str(v)


UNARY = {
    "neg": lambda v: -v, "pos": lambda v: +v, "round": round, "int": int,
    "float": float, "truthy": bool,
}
TEXT = {"str": str, "repr": repr, "small": small}


# ---------------------------------------------------------------------------
# Tables

def ops_table():
    rows = []
    for sym in BINARY_OPS:
        for a in VALUES:
            for b in VALUES:
                rows.append((a, sym, b))
    rows += [(op(a), sym, op(b)) for a, sym, b in EDGE_OPS]
    out = []
    for a, sym, b in rows:
        r = attempt(lambda: binary(a.value, sym, b.value))
        out.append(f"{a.label}\t{sym}\t{b.label}\t{describe(r)}\n")
    return "".join(out)


def unary_table():
    out = []
    for name in UNARY_OPS:
        for a in UNARY_VALUES:
            if name in TEXT:
                res = f"text:{TEXT[name](a.value)}"
            else:
                res = describe(attempt(lambda: UNARY[name](a.value)))
            out.append(f"{name}\t{a.label}\t{res}\n")
    return "".join(out)


# Lengths of the random samples at the end of the committed tables.
FLOAT_REPR_SAMPLE = 788
ROUND_SAMPLE = 392


def committed_sample(name, size):
    """The inputs of the random sample: the last SIZE lines of the table."""
    lines = (HERE / name).read_text().splitlines()
    return [tuple(line.split(" ")[:-1]) for line in lines[len(lines) - size:]]


def random_floats(rng, n):
    """A mix of the floats the formatting code must get right."""
    out = []
    for _ in range(n):
        kind = rng.randrange(5)
        if kind == 0:    # any finite bit pattern
            x = math.nan
            while not math.isfinite(x):
                x = float_of(rng.getrandbits(64))
        elif kind == 1:  # an integer-valued float
            x = float(rng.randint(-10**15, 10**15))
        elif kind == 2:  # a short decimal
            x = round(rng.uniform(-1000, 1000), rng.randrange(1, 7))
        elif kind == 3:  # near the point where repr switches to exponents
            x = rng.uniform(5e14, 1.2e15)
        else:            # a tiny or huge magnitude
            x = rng.uniform(1, 10) * 10.0 ** rng.randint(-30, 30)
        out.append(x)
    return out


def float_repr_table(sample):
    xs = list(FLOAT_REPR_HEAD)
    xs += [float_of(int(s[0], 16)) for s in sample]
    return "".join(f"{bits_of(x):016x} {x!r}\n" for x in xs)


def round_table(sample):
    rows = [(x, 3) for x in ROUND_HEAD_3]
    rows += [(x, n) for x in ROUND_HEAD_ALL for n in NDIGITS]
    rows += [(float_of(int(h, 16)), int(n)) for h, n in sample]
    out = []
    for x, n in rows:
        try:
            r = f"{bits_of(round(x, n)):016x}"
        except OverflowError:  # "rounded value too large to represent"
            r = "overflow"
        out.append(f"{bits_of(x):016x} {n} {r}\n")
    return "".join(out)


def main():
    ap = argparse.ArgumentParser(description="Write rasp-core's Python-semantics tables.")
    ap.add_argument("--check", action="store_true", help="compare with the committed files, write nothing")
    ap.add_argument("--resample", type=int, metavar="SEED",
                    help="draw a new random sample for float_repr.txt and round_ndigits.txt")
    args = ap.parse_args()
    if sys.version_info[:2] != (3, 11):
        print(f"warning: CPython 3.11 expected, this is {sys.version.split()[0]}", file=sys.stderr)

    if args.resample is None:
        repr_sample = committed_sample("float_repr.txt", FLOAT_REPR_SAMPLE)
        round_sample = committed_sample("round_ndigits.txt", ROUND_SAMPLE)
    else:
        rng = random.Random(args.resample)
        repr_sample = [(f"{bits_of(x):016x}",) for x in random_floats(rng, FLOAT_REPR_SAMPLE)]
        round_sample = [(f"{bits_of(x):016x}", str(rng.choice(NDIGITS + [3] * 10)))
                        for x in random_floats(rng, ROUND_SAMPLE)]

    tables = {
        "ops.txt": ops_table(),
        "unary.txt": unary_table(),
        "float_repr.txt": float_repr_table(repr_sample),
        "round_ndigits.txt": round_table(round_sample),
    }
    differ = False
    for name, text in tables.items():
        path = HERE / name
        old = path.read_text() if path.exists() else None
        if old == text:
            print(f"{name}: unchanged ({text.count(chr(10))} lines)")
            continue
        differ = True
        if args.check:
            print(f"{name}: differs from the committed file")
        else:
            path.write_text(text)
            print(f"{name}: written ({text.count(chr(10))} lines)")
    return 1 if (args.check and differ) else 0


if __name__ == "__main__":
    sys.exit(main())
