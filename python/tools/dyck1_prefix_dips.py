"""How often the Dyck-1 label is not decided by the prefix balance alone.

Draws inputs the way `rasp table` draws the dyck1 task (crates/rasp-train,
data.rs: a third balanced strings with neutral tokens at rate 0.3, a third a
balanced prefix with a random tail, a third random strings; tokens "(", ")",
"a"; lengths 1..16) and counts the positions labelled F whose own prefix
balance is still >= 0: some earlier prefix closed more than it opened. A
RASP program needs a second layer for those (docs/experiments.md).

    python3 python/tools/dyck1_prefix_dips.py [INPUTS]
"""

import random
import sys

TOKENS = "()a"
MAX_LEN = 16


def balanced(n):
    out, depth = [], 0
    for i in range(n):
        left = n - i - 1
        can_close, can_open, can_neutral = depth > 0, depth < left, depth <= left
        if can_close and depth > left:
            choice = ")"
        elif can_neutral and random.random() < 0.3:
            choice = "a"
        elif can_open and (not can_close or random.randrange(2) == 0):
            choice = "("
        elif can_close:
            choice = ")"
        else:
            choice = "a"
        depth += {"(": 1, ")": -1, "a": 0}[choice]
        out.append(choice)
    return out


def sample():
    n = random.randint(1, MAX_LEN)
    kind = random.randrange(3)
    if kind == 0:
        return balanced(n)
    if kind == 1:
        m = random.randint(0, n)
        return balanced(m) + [random.choice(TOKENS) for _ in range(m, n)]
    return [random.choice(TOKENS) for _ in range(n)]


def main():
    inputs = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    random.seed(1)
    positions = failed = hidden = 0
    for _ in range(inputs):
        balance, dipped = 0, False
        for token in sample():
            balance += {"(": 1, ")": -1, "a": 0}[token]
            dipped = dipped or balance < 0
            positions += 1
            failed += dipped
            hidden += dipped and balance >= 0
    print(f"{positions} positions: F {failed / positions:.2%}, "
          f"F with prefix balance >= 0 {hidden / positions:.2%}")


if __name__ == "__main__":
    main()
