"""A whitelist parser for the expressions users type on the command line.

Activations, losses and claimed gradients arrive as text, for example
``1/(1+exp(-z))`` or ``-sum(y[i]*log(o[i]), i)``.  ``sympify`` and
``parse_expr`` run arbitrary Python, so they are never used here.  Instead the
text is checked character by character, parsed with :func:`ast.parse` (which
only builds a syntax tree and runs nothing), and the tree is walked against a
whitelist.  SymPy objects are built directly from the nodes that pass; every
other node is refused with a one-line :class:`ParseError` that names the
offending part and its column.

Grammar (the same for every role, only the names differ)::

    expr   := number | name | base "[" index "]" | func "(" expr ")"
            | "sum" "(" expr "," index ")" | "(" expr ")"
            | ("+" | "-") expr | expr ("+" | "-" | "*" | "/" | "**") expr
    number := digits | digits "." digits? | "." digits     (decimal only, <= 30 digits)
    index  := "i" | "j" | "k" | a positive whole number
    func   := exp | log | sqrt | tanh | sinh | cosh | abs

Names per role (``ROLES``):

* ``"activation"``: plain ``z`` (elementwise) *or* ``z[...]`` (vector), not both;
  ``sum`` may not run over ``i``, which is the output's own index.
* ``"loss"``: ``o[...]`` and ``y[...]``.
* ``"claim"``: ``o[...]``, ``y[...]``, ``z[...]`` and ``N`` (the number of
  examples); ``sum`` may not run over ``k``, the index being differentiated by.

Indices map to the canonical symbols: ``i`` -> ``SUM_INDEX``, ``j`` ->
``INNER_INDEX``, ``k`` -> ``FREE_INDEX``.  ``sum(expr, j)`` is
``Sum(expr, (INNER_INDEX, 1, CLASSES))``: every sum runs over all classes.
Decimals are exact: ``0.5`` is ``Rational(1, 2)``.

Limits (module constants): ``MAX_LENGTH`` characters of text, ``MAX_NODES``
syntax-tree nodes, ``MAX_DEPTH`` levels of nesting, ``MAX_LITERAL_DIGITS``
digits per number as written, ``MAX_NUMBER_DIGITS`` digits per number after
SymPy folds constants, and ``MAX_EXPONENT`` for the magnitude of every number
inside an exponent or inside ``exp(...)`` (also after SymPy combines powers).
The last limit is what keeps ``9**9**9**9`` and ``exp(10**30*log(2))`` (which
SymPy would turn into ``2**(10**30)``) from ever being computed.  Results that
fold to ``zoo``/``nan`` (``1/0``, ``log(0)``) or to complex numbers
(``sqrt(-1)``) are refused.  SymPy evaluates while it builds, and a few of its
assumption queries are exponential, so building also runs under a wall-clock
budget of ``MAX_SECONDS`` (see :func:`_within_budget`).  Only printable ASCII
is accepted, so look-alike Unicode letters and control characters are refused
before parsing.  Whatever the text, the only exception that leaves
:func:`parse_expression` is :class:`ParseError`.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from sympy import Abs, Basic, Expr, Rational, S, Sum, Symbol, cosh, exp, log, sinh, sqrt, tanh
from sympy.core.power import Pow

from derive.deadline import OutOfTime, budget
from derive.symbols import CLASSES, ELEMENTWISE_INPUT, EXAMPLES, FREE_INDEX, INNER_INDEX, INPUT, OUTPUT, SUM_INDEX, TARGET  # EXAMPLES: N in a claim
from derive.parse_text import MAX_DEPTH, MAX_LENGTH, MAX_NODES, one_line as _one_line, syntax_tree as _syntax_tree
from derive.syntax import ParseError

__all__ = [
    "ParseError", "parse_expression", "ROLES", "ELEMENTWISE_INPUT", "EXAMPLES",
    "MAX_LENGTH", "MAX_NODES", "MAX_DEPTH", "MAX_LITERAL_DIGITS", "MAX_NUMBER_DIGITS", "MAX_EXPONENT", "MAX_SECONDS",
]

MAX_LITERAL_DIGITS = 30    # digits in one number as written
MAX_NUMBER_DIGITS = 100    # digits in a numerator or denominator after constants are folded
MAX_EXPONENT = 100         # magnitude of any number inside an exponent or inside exp(...)
MAX_SECONDS = 0.5          # wall-clock budget for building the SymPy tree (main thread, POSIX only)


_FUNCTIONS = {"exp": exp, "log": log, "sqrt": sqrt, "tanh": tanh, "sinh": sinh, "cosh": cosh, "abs": Abs}
_INDICES = {"i": SUM_INDEX, "j": INNER_INDEX, "k": FREE_INDEX}
_BASES = {"o": OUTPUT, "y": TARGET, "z": INPUT}
_NUMBER_BOUND = 10**MAX_NUMBER_DIGITS
_DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+")
_SNIPPET_CHARS = 40


@dataclass(frozen=True)
class _Role:
    noun: str                   # "an activation", used in messages
    bases: tuple[str, ...]      # names that take an index: z[i]
    symbols: dict               # plain names: z, N
    free_index: str | None      # the index a sum may not run over
    allowed: str                # the names, for messages


ROLES: dict[str, _Role] = {
    "activation": _Role("an activation", ("z",), {"z": ELEMENTWISE_INPUT}, "i", "z or z[i], z[j], z[k]"),
    "loss": _Role("a loss", ("o", "y"), {}, None, "o[...], y[...]"),
    "claim": _Role("a claim", ("o", "y", "z"), {"N": EXAMPLES}, "k", "o[...], y[...], z[...], N"),
}

# What to call each refused kind of node in a message.
_CONSTRUCTS = {
    ast.Attribute: "attribute access is", ast.Lambda: "lambda is", ast.ListComp: "comprehensions are",
    ast.SetComp: "comprehensions are", ast.DictComp: "comprehensions are",
    ast.GeneratorExp: "generator expressions are", ast.JoinedStr: "f-strings are", ast.FormattedValue: "f-strings are",
    ast.NamedExpr: "assignment expressions (:=) are", ast.Starred: "starred expressions (*) are",
    ast.Compare: "comparisons are", ast.BoolOp: "'and'/'or' are", ast.IfExp: "conditional expressions (if/else) are",
    ast.List: "lists are", ast.Tuple: "tuples are", ast.Dict: "dicts are", ast.Set: "sets are",
    ast.Await: "'await' is", ast.Yield: "'yield' is", ast.YieldFrom: "'yield from' is", ast.Slice: "slices are",
}
_OPERATORS = {
    ast.Mod: "'%' is", ast.FloorDiv: "'//' is", ast.MatMult: "'@' is", ast.BitAnd: "'&' is", ast.BitOr: "'|' is",
    ast.BitXor: "'^' is", ast.LShift: "'<<' is", ast.RShift: "'>>' is",
}


def parse_expression(text: str, *, role: str) -> Expr:
    """Parse ``text`` as ``role`` ("activation", "loss" or "claim") into canonical SymPy symbols.

    Raises :class:`ParseError` (a ``ValueError``) with a one-line message for any
    text that is not a whitelisted expression; nothing in ``text`` is ever run.
    A ``role`` that is not in ``ROLES`` or a ``text`` that is not a ``str`` is a
    programming error and raises ``ValueError`` / ``TypeError``.
    """
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    if not isinstance(text, str):
        raise TypeError(f"expression text must be str, not {type(text).__name__}")
    body, lead = _syntax_tree(text)
    builder = _Builder(text, lead, ROLES[role])
    try:
        return _within_budget(lambda: builder.build(body))
    except ParseError:
        raise
    except OutOfTime:
        raise ParseError(f"expression too complex: SymPy could not build it within {MAX_SECONDS} s") from None
    except (RecursionError, MemoryError):
        raise ParseError("expression nested too deeply") from None
    except Exception as error:  # noqa: BLE001 - a SymPy corner case must still be one line, not a traceback
        raise ParseError(f"cannot build this expression: {_one_line(str(error)) or type(error).__name__}") from None


def _within_budget(build):
    """Run ``build()``, interrupting it after MAX_SECONDS.

    SymPy evaluates as it builds, and some of its assumption queries are
    exponential (``sqrt(cosh((o[k]+y[k]+z[k])**20)-1)`` takes most of a
    minute), so no syntactic limit can bound the time.  A one-shot alarm
    (``derive.deadline.budget``) does; inside a command's ``--timeout`` the
    sooner of the two wins.  Signals only work in the main thread on POSIX;
    elsewhere ``build()`` runs without a budget.
    Interrupting SymPy is safe: its caches store only finished results, and an
    assumption query stores a fact only once a handler has returned it.
    """
    with budget(MAX_SECONDS, OutOfTime):
        return build()


class _Builder:
    """Turns a size-checked syntax tree into SymPy objects, refusing anything off the whitelist."""

    def __init__(self, source: str, lead: int, role: _Role):
        self.source = source.strip(" ")
        self.lead = lead
        self.role = role
        self.bound: list[str] = []           # indices bound by the enclosing sums
        self.plain_z: ast.AST | None = None  # first use of plain z (activation)
        self.indexed_z: ast.AST | None = None
        self.verified: set[Basic] = set()    # sub-expressions already checked by verify()

    # -- messages ----------------------------------------------------------
    def fail(self, node: ast.AST, message: str, hint: str = "") -> ParseError:
        column = getattr(node, "col_offset", None)
        where = f" at column {column + 1 + self.lead}" if column is not None else ""
        return ParseError(f"{message}{where}{'; ' + hint if hint else ''}")

    def snippet(self, node: ast.AST) -> str:
        text = ast.get_source_segment(self.source, node) or type(node).__name__
        if len(text) > _SNIPPET_CHARS:
            text = text[:_SNIPPET_CHARS - 3] + "..."
        return repr(text)

    def refuse(self, node: ast.AST, what: str, hint: str = "") -> ParseError:
        return self.fail(node, f"{what} not allowed: {self.snippet(node)}", hint)

    # -- the walk ----------------------------------------------------------
    def build(self, body: ast.expr) -> Expr:
        result = self.expr(body)
        if self.plain_z is not None and self.indexed_z is not None:
            raise self.fail(self.indexed_z, "use either plain 'z' (elementwise) or 'z[...]' (vector), "
                                             f"not both: {self.snippet(self.indexed_z)}")
        return result

    def expr(self, node: ast.expr) -> Expr:
        if isinstance(node, ast.Constant):
            result = self.constant(node)
        elif isinstance(node, ast.Name):
            result = self.name(node)
        elif isinstance(node, ast.UnaryOp):
            result = self.unary(node)
        elif isinstance(node, ast.BinOp):
            result = self.binary(node)
        elif isinstance(node, ast.Call):
            result = self.call(node)
        elif isinstance(node, ast.Subscript):
            result = self.subscript(node)
        else:
            raise self.refuse(node, _CONSTRUCTS.get(type(node), f"{type(node).__name__} is"))
        self.verify(node, result)
        return result

    def constant(self, node: ast.Constant) -> Expr:
        value = node.value
        if value is None or isinstance(value, bool):
            raise self.refuse(node, f"'{value}' is")
        if isinstance(value, (str, bytes)):
            raise self.refuse(node, "string literals are")
        if value is Ellipsis:
            raise self.refuse(node, "'...' is")
        if isinstance(value, complex):
            raise self.refuse(node, "complex numbers are")
        if not isinstance(value, (int, float)):
            raise self.refuse(node, "this literal is")
        return self.decimal(node)

    def decimal(self, node: ast.Constant) -> Rational:
        text = ast.get_source_segment(self.source, node) or ""
        if not _DECIMAL.fullmatch(text):
            if "_" in text:
                raise self.refuse(node, "underscores in numbers are")
            if text[:2].lower() in ("0x", "0o", "0b"):
                raise self.refuse(node, "non-decimal numbers are")
            if "e" in text.lower():
                raise self.refuse(node, "scientific notation is")
            raise self.refuse(node, "this number is")
        whole, _, fraction = text.partition(".")
        digits = whole + fraction
        if len(digits) > MAX_LITERAL_DIGITS:
            raise self.fail(node, f"number has {len(digits)} digits (at most {MAX_LITERAL_DIGITS})")
        return Rational(int(digits), 10 ** len(fraction))  # exact: "0.5" is 1/2

    def name(self, node: ast.Name) -> Expr:
        name = node.id
        if name.startswith("__"):
            raise self.refuse(node, "double-underscore names are")
        if name in self.role.symbols:
            if name == "z":
                self.plain_z = self.plain_z or node
            return self.role.symbols[name]
        if name in self.role.bases:
            raise self.fail(node, f"{name!r} needs an index, e.g. {name}[{self.example_index()}]")
        if name in _INDICES:
            raise self.fail(node, f"index {name!r} can only appear inside [...] or as the index of sum")
        if name in _FUNCTIONS or name == "sum":
            raise self.fail(node, f"{name!r} is a function; call it as {name}(...)")
        raise self.fail(node, f"unknown name {name!r}", f"allowed in {self.role.noun}: {self.role.allowed}")

    def example_index(self) -> str:
        return "k" if self.role.free_index == "k" else "i"

    def unary(self, node: ast.UnaryOp) -> Expr:
        if isinstance(node.op, ast.UAdd):
            return +self.expr(node.operand)
        if isinstance(node.op, ast.USub):
            return -self.expr(node.operand)
        raise self.refuse(node, "'not' is" if isinstance(node.op, ast.Not) else "'~' is")

    def binary(self, node: ast.BinOp) -> Expr:
        op = node.op
        if not isinstance(op, (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)):
            hint = "write powers with **" if isinstance(op, ast.BitXor) else ""
            raise self.refuse(node, _OPERATORS.get(type(op), f"{type(op).__name__} is"), hint)
        left = self.expr(node.left)
        right = self.expr(node.right)
        if isinstance(op, ast.Add):
            return left + right
        if isinstance(op, ast.Sub):
            return left - right
        if isinstance(op, ast.Mult):
            return left * right
        if isinstance(op, ast.Div):
            return left / right
        self.check_exponent(node.right, right)  # before SymPy computes anything
        return left ** right

    def call(self, node: ast.Call) -> Expr:
        func = node.func
        if not isinstance(func, ast.Name):
            self.expr(func)  # refuses the innermost offending construct, if the callee has one
            if isinstance(func, ast.Call):
                raise self.refuse(node, "calling the result of a call is")
            raise self.refuse(node, "calling anything but a function name is")
        name = func.id
        if name.startswith("__"):
            raise self.refuse(func, "double-underscore names are")
        if name != "sum" and name not in _FUNCTIONS:
            if name in self.role.symbols or name in _BASES:
                raise self.fail(func, f"{name!r} is not a function")
            allowed = ", ".join(sorted([*_FUNCTIONS, "sum"]))
            raise self.fail(func, f"unknown function {name!r}", f"allowed: {allowed}")
        if node.keywords:
            raise self.refuse(node.keywords[0], "keyword arguments are")
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise self.refuse(arg, "starred expressions (*) are")
        if name == "sum":
            return self.sum(node)
        if len(node.args) != 1:
            raise self.fail(node, f"{name}() takes exactly one argument, got {len(node.args)}")
        argument = self.expr(node.args[0])
        if name == "exp":
            self.check_exponent(node.args[0], argument)
        return _FUNCTIONS[name](argument)

    def sum(self, node: ast.Call) -> Expr:
        if len(node.args) != 2:
            raise self.fail(node, f"sum() takes an expression and an index, e.g. sum(y[i], i); "
                                  f"got {len(node.args)} argument(s)")
        body, index = node.args
        if not (isinstance(index, ast.Name) and index.id in _INDICES):
            raise self.fail(index, f"the index of sum must be i, j or k, not {self.snippet(index)}")
        name = index.id
        if name == self.role.free_index:
            raise self.fail(index, f"sum may not run over {name!r} in {self.role.noun}: "
                                   f"{name!r} is its free index")
        if name in self.bound:
            raise self.fail(index, f"index {name!r} is already bound by an enclosing sum")
        self.bound.append(name)
        try:
            function = self.expr(body)
        finally:
            self.bound.pop()
        symbol = _INDICES[name]
        return Sum(function, (symbol, 1, CLASSES))

    def subscript(self, node: ast.Subscript) -> Expr:
        value = node.value
        if not isinstance(value, ast.Name):
            self.expr(value)  # refuses the innermost offending construct, if the indexed part has one
            raise self.refuse(node, "indexing anything but o, y or z is")
        name = value.id
        if name.startswith("__"):
            raise self.refuse(value, "double-underscore names are")
        if name not in self.role.bases:
            if name in _BASES:
                raise self.fail(value, f"{name!r} is not allowed in {self.role.noun}",
                                f"allowed: {self.role.allowed}")
            raise self.fail(value, f"unknown name {name!r}", f"allowed in {self.role.noun}: {self.role.allowed}")
        index = self.index(node.slice)
        if name == "z":
            self.indexed_z = self.indexed_z or node
        return _BASES[name][index]

    def index(self, node: ast.expr) -> Expr:
        if isinstance(node, ast.Name) and node.id in _INDICES:
            return _INDICES[node.id]
        if isinstance(node, ast.Slice):
            raise self.refuse(node, "slices are")
        if isinstance(node, ast.Constant) and type(node.value) is int and node.value > 0:
            return self.decimal(node)
        raise self.fail(node, f"an index must be i, j, k or a positive whole number, not {self.snippet(node)}")

    # -- size guards ---------------------------------------------------------
    def check_exponent(self, node: ast.AST, exponent: Basic) -> None:
        """Numbers inside an exponent (or exp's argument) are at most MAX_EXPONENT in magnitude."""
        for number in exponent.atoms(Rational):
            if abs(number.p) > MAX_EXPONENT * number.q:
                raise self.fail(node, f"exponent too large: {self.snippet(node)} "
                                      f"(numbers in an exponent must be at most {MAX_EXPONENT} in size)")

    def verify(self, node: ast.AST, result: Basic) -> None:
        """Refuse values SymPy folded into something unusable; each sub-expression is checked once."""
        if not isinstance(result, Expr):
            raise self.fail(node, f"not an expression: {self.snippet(node)}")
        stack = [result]
        while stack:
            item = stack.pop()
            if item in self.verified:
                continue
            if isinstance(item, Rational):
                if abs(item.p) >= _NUMBER_BOUND or item.q >= _NUMBER_BOUND:
                    raise self.fail(node, f"number too large in {self.snippet(node)} "
                                          f"(at most {MAX_NUMBER_DIGITS} digits)")
            elif item in (S.ComplexInfinity, S.NaN, S.Infinity, S.NegativeInfinity):
                raise self.fail(node, f"undefined value (division by zero?) in {self.snippet(node)}")
            elif item is S.ImaginaryUnit:
                raise self.fail(node, f"complex value in {self.snippet(node)}")
            elif isinstance(item, Pow):
                self.check_exponent(node, item.exp)
            elif isinstance(item, exp):
                self.check_exponent(node, item.args[0])
            self.verified.add(item)
            stack.extend(item.args)
