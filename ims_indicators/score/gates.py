"""Gate rules: a tiny, safe expression language evaluated on whole arrays.

Grammar (no Python ``eval``)::

    rule       := or_expr
    or_expr    := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | "(" rule ")" | comparison
    comparison := operand (">=" | ">" | "<=" | "<" | "==" | "!=") operand
    operand    := indicator or aggregate id | number

A comparison with a missing value is *unknown* and the logic is three-valued (as in SQL): ``unknown or
true`` is true, ``unknown and false`` is false, ``not unknown`` is unknown; a rule that ends unknown
fails, so a gate on a missing indicator fails whichever way it is written.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

_TOKEN = re.compile(r"\s*(?:(?P<num>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)|(?P<op>>=|<=|==|!=|>|<)"
                    r"|(?P<par>[()])|(?P<name>[A-Za-z_][A-Za-z0-9_]*))")
_OPS: dict[str, Callable] = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt,
                             "==": operator.eq, "!=": operator.ne}
_KEYWORDS = {"and", "or", "not"}


@dataclass(frozen=True)
class GateExpr:
    """A parsed rule: a tree of ("and"|"or", a, b), ("not", a) and ("cmp", op, left, right) tuples."""

    text: str
    node: tuple

    def names(self) -> set[str]:
        """Every id the rule refers to."""
        out: set[str] = set()

        def walk(n: tuple) -> None:
            if n[0] == "cmp":
                out.update(x for x in n[2:] if isinstance(x, str))
            else:
                for child in n[1:]:
                    walk(child)

        walk(self.node)
        return out

    def evaluate(self, env: Mapping[str, np.ndarray]) -> np.ndarray:
        """True where the rule holds for certain (arrays broadcast together); unknown counts as failing."""

        def val(x: str | float) -> np.ndarray | float:
            return np.asarray(env[x], dtype=float) if isinstance(x, str) else x

        def walk(n: tuple) -> tuple[np.ndarray, np.ndarray]:  # (value, known)
            kind = n[0]
            if kind == "cmp":
                left, right = val(n[2]), val(n[3])
                with np.errstate(invalid="ignore"):
                    res = np.asarray(_OPS[n[1]](left, right))
                return res, ~np.isnan(left) & ~np.isnan(right)
            if kind == "not":
                v, k = walk(n[1])
                return ~v, k
            (va, ka), (vb, kb) = walk(n[1]), walk(n[2])
            if kind == "and":
                return va & vb, (ka & kb) | (ka & ~va) | (kb & ~vb)
            return (va & ka) | (vb & kb), (ka & kb) | (ka & va) | (kb & vb)

        value, known = walk(self.node)
        return value & known


def parse_gate(text: str) -> GateExpr:
    """Parse a rule such as ``qa_valid_accreditation >= 1 and qa_wfme_recognised >= 1``."""
    tokens: list[tuple[str, str]] = []
    pos, text_s = 0, text.rstrip()
    while pos < len(text_s):
        m = _TOKEN.match(text_s, pos)
        if not m or m.end() == pos:
            raise ValueError(f"cannot read {text_s[pos:].strip()!r} in rule {text!r}")
        kind = m.lastgroup or ""
        tokens.append((kind, m.group(kind)))
        pos = m.end()
    if not tokens:
        raise ValueError("empty rule")
    pos_box = [0]

    def peek() -> tuple[str, str] | None:
        return tokens[pos_box[0]] if pos_box[0] < len(tokens) else None

    def take() -> tuple[str, str]:
        tok = peek()
        if tok is None:
            raise ValueError(f"rule {text!r} ends too early")
        pos_box[0] += 1
        return tok

    def operand() -> str | float:
        kind, value = take()
        if kind == "num":
            return float(value)
        if kind == "name" and value not in _KEYWORDS:
            return value
        raise ValueError(f"expected an id or a number, found {value!r} in rule {text!r}")

    def comparison() -> tuple:
        left = operand()
        kind, op = take()
        if kind != "op":
            raise ValueError(f"expected a comparison (>=, >, <=, <, ==, !=) after {left!r}, found {op!r}")
        return ("cmp", op, left, operand())

    def not_expr() -> tuple:
        tok = peek()
        if tok == ("name", "not"):
            take()
            return ("not", not_expr())
        if tok == ("par", "("):
            take()
            inner = or_expr()
            if take() != ("par", ")"):
                raise ValueError(f"missing ')' in rule {text!r}")
            return inner
        return comparison()

    def and_expr() -> tuple:
        node = not_expr()
        while peek() == ("name", "and"):
            take()
            node = ("and", node, not_expr())
        return node

    def or_expr() -> tuple:
        node = and_expr()
        while peek() == ("name", "or"):
            take()
            node = ("or", node, and_expr())
        return node

    node = or_expr()
    if peek() is not None:
        raise ValueError(f"unexpected {peek()[1]!r} in rule {text!r}")  # type: ignore[index]
    return GateExpr(text=text, node=node)
