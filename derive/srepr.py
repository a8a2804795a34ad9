"""SymPy ``srepr`` text out and back in, exactly, and without ``eval``.

``dump`` is ``srepr`` that keeps the argument order of sums and products, so an
expression the engine wrote unevaluated on purpose (``O_k − O_k y_k − y_k + O_k y_k``)
reads back identical.  ``load`` parses the text with :mod:`ast`; it is
parsed with :mod:`ast` and only whitelisted constructors with literal
arguments are called; anything else (names, attributes, subscripts, lambdas,
comprehensions, huge literals) is refused.
"""

from __future__ import annotations

import ast
import re

import sympy
from sympy import Basic
from sympy.printing.repr import ReprPrinter

from derive.sums import SumExcept

MAX_LENGTH = 2_000_000
MAX_DEPTH = 400
_CONSTRUCTORS = {
    name: getattr(sympy, name)
    for name in (
        "Symbol", "Dummy", "Integer", "Rational", "Float", "Indexed", "IndexedBase", "Sum", "Derivative", "Tuple",
        "Add", "Mul", "Pow", "log", "exp", "KroneckerDelta", "Piecewise", "Equality", "Unequality",
        "UnevaluatedExpr", "tanh", "sqrt", "Abs", "sinh", "cosh", "atanh", "sign",
        "StrictGreaterThan", "GreaterThan", "StrictLessThan", "LessThan",
    )
}
_CONSTRUCTORS["SumExcept"] = SumExcept
_CONSTRUCTORS["ExprCondPair"] = sympy.functions.elementary.piecewise.ExprCondPair
_SINGLETONS = {"Half": sympy.S.Half, "NegativeOne": sympy.S.NegativeOne, "One": sympy.S.One, "Zero": sympy.S.Zero,
               "BooleanTrue": sympy.true, "BooleanFalse": sympy.false, "Infinity": sympy.oo, "NegativeInfinity": -sympy.oo}
_NAMES = {"true": sympy.true, "false": sympy.false, "oo": sympy.oo, "zoo": sympy.zoo, "nan": sympy.nan}
_DECIMAL = re.compile(r"-?[0-9]{1,60}(\.[0-9]{0,60})?(e-?[0-9]{1,2})?")  # bounded: |x| < 10^160
_ARITHMETIC = {"Add", "Mul", "Pow"}


class SreprError(ValueError):
    """Text that is not a plain srepr of the expressions derive writes."""


_NAMED = {"Symbol", "Dummy"}  # the only constructors whose first argument is a name (a string)
_NUMERIC = {"Integer", "Rational", "Float"}  # constructors of numbers from literals
MAX_INTEGER = 10**100
MAX_EXPONENT = 1000  # a number raised to (or exp of) more than this is refused: computing it could take hours


def _literal(node: ast.AST, depth: int):
    """A literal (int, str, bool) or a whitelisted constructor applied to literals."""
    if depth > MAX_DEPTH:
        raise SreprError("srepr nested too deeply")
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, str, bool)):
        if isinstance(node.value, int) and abs(node.value) > MAX_INTEGER:
            raise SreprError("integer literal too large")
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
        return -_literal(node.operand, depth + 1)
    if isinstance(node, ast.Name) and node.id in _NAMES:
        return _NAMES[node.id]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return _construct(node, depth)
    raise SreprError(f"unexpected {type(node).__name__} in srepr")


def _construct(node: ast.Call, depth: int) -> Basic:
    name = node.func.id
    if name in _SINGLETONS and not node.args and not node.keywords:
        return _SINGLETONS[name]
    if name not in _CONSTRUCTORS:
        raise SreprError(f"constructor {name!r} is not allowed")
    args = [_literal(arg, depth + 1) for arg in node.args]
    kwargs = {kw.arg: _literal(kw.value, depth + 1) for kw in node.keywords if kw.arg is not None}
    if len(kwargs) != len(node.keywords) or any(not isinstance(v, (bool, int)) or isinstance(v, str) for v in kwargs.values()):
        raise SreprError("only true/false or whole-number keyword arguments are allowed")
    for position, arg in enumerate(args):
        # a string is a symbol's name or a float's digits, never something SymPy would parse as an expression
        text_allowed = (name in _NAMED and position == 0) or (name == "Float" and position == 0)
        number_allowed = name in _NUMERIC or (name in _NAMED and position > 0)
        if isinstance(arg, str) and not text_allowed:
            raise SreprError(f"text is only allowed as a symbol's name, not in {name}")
        if isinstance(arg, int) and not isinstance(arg, bool) and not number_allowed:
            raise SreprError(f"bare numbers are not allowed in {name}")
    if name == "Float" and args and isinstance(args[0], str) and not _DECIMAL.fullmatch(args[0]):
        raise SreprError("a float must be written in decimal digits")
    _bounded(name, args)
    if name in _ARITHMETIC and all(isinstance(arg, Basic) and arg.is_Number for arg in args):
        return _CONSTRUCTORS[name](*args, evaluate=False)  # never compute a number the text only names
    built = _CONSTRUCTORS[name](*args, **kwargs)
    if name in _ARITHMETIC and built.args != tuple(args):
        built = _CONSTRUCTORS[name](*args, evaluate=False)  # it was written unevaluated on purpose
    return built


def _bounded(name: str, args: list) -> None:
    """Refuse a power or exponential whose numeric exponent is huge, before SymPy tries to compute it."""
    exponents = args[1:2] if name == "Pow" else args[:1] if name in ("exp", "sinh", "cosh", "tanh") else ()
    for exponent in exponents:
        if isinstance(exponent, Basic) and exponent.is_Number and not abs(exponent) <= MAX_EXPONENT:
            raise SreprError(f"a numeric exponent above {MAX_EXPONENT} in {name}")


class _ExactReprPrinter(ReprPrinter):
    """``srepr`` keeping argument order; it remembers what it printed, so expressions that share a large
    part (every gradient component shares softmax's written-out denominator) print it only once."""

    def __init__(self):
        super().__init__()
        self._printed: dict = {}

    def _print(self, expr, **kwargs):
        if not isinstance(expr, Basic) or kwargs:
            return super()._print(expr, **kwargs)
        text = self._printed.get(expr)
        if text is None:
            text = self._printed[expr] = super()._print(expr)
        return text

    def _print_Add(self, expr, order=None):
        return "Add(%s)" % ", ".join(self._print(arg) for arg in expr.args)

    def _print_Mul(self, expr, order=None):
        return "Mul(%s)" % ", ".join(self._print(arg) for arg in expr.args)


def dump(expr: Basic) -> str:
    return _ExactReprPrinter().doprint(expr)


def dump_all(exprs) -> list[str]:
    """``dump`` of each expression, with one printer, so shared parts are printed once."""
    printer = _ExactReprPrinter()
    return [printer.doprint(expr) for expr in exprs]


def load(text: str) -> Basic:
    if len(text) > MAX_LENGTH:
        raise SreprError("srepr text too long")
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, RecursionError, ValueError) as error:
        raise SreprError(f"not valid srepr: {error}") from None
    return _literal(tree.body, 0)
