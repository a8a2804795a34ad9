"""The user-expression parser: what it accepts, exactly, and what it refuses, safely.

Nothing here measures time with asserts; the hostile inputs are chosen so that
a parser which evaluated them, or recursed into them, would hang or blow up the
suite instead of finishing in a few seconds.
"""

from __future__ import annotations

import ast
import signal
import threading
import warnings
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sympy import Abs, Basic, Rational, Sum, Symbol, cosh, exp, log, sinh, sqrt, srepr, tanh

import derive.parse as parse_module
import derive.parse_text as parse_text
from derive.catalog import ACTIVATIONS
from derive.parse import ParseError, parse_expression
from derive.symbols import CLASSES, FREE_INDEX, INNER_INDEX, INPUT, OUTPUT, SUM_INDEX, TARGET

Z = Symbol("z", real=True)
N = Symbol("N", integer=True, positive=True)
i, j, k, H = SUM_INDEX, INNER_INDEX, FREE_INDEX, CLASSES
o, y, z = OUTPUT, TARGET, INPUT


def total(expr, index=i):
    return Sum(expr, (index, 1, H))


# --------------------------------------------------------------------------
# 1. Accepted inputs and their exact trees
# --------------------------------------------------------------------------

ACCEPTED = [
    # activations, elementwise in plain z
    ("activation", "1/(1+exp(-z))", 1 / (1 + exp(-Z))),
    ("activation", "tanh(z)", tanh(Z)),
    ("activation", "log(1+exp(z))", log(1 + exp(Z))),
    ("activation", "sinh(z)/cosh(z)", sinh(Z) / cosh(Z)),
    ("activation", "sqrt(1+z**2)", sqrt(1 + Z**2)),
    ("activation", "abs(z)", Abs(Z)),
    ("activation", "0.5*z", Z / 2),
    ("activation", "z * 1.5", Rational(3, 2) * Z),
    ("activation", "+z", Z),
    ("activation", "  z  ", Z),
    ("activation", "z**-1", 1 / Z),
    ("activation", "(z)", Z),
    # activations, vector in z[...]
    ("activation", "exp(z[i])/sum(exp(z[j]), j)", exp(z[i]) / total(exp(z[j]), j)),
    ("activation", "exp(z[i] - z[k])", exp(z[i] - z[k])),
    ("activation", "z[i]/sum(abs(z[j]), j)", z[i] / total(Abs(z[j]), j)),
    ("activation", "z[2]", z[2]),
    # losses
    ("loss", "-sum(y[i]*log(o[i]), i)", -total(y[i] * log(o[i]))),
    ("loss", "sum((o[i]-y[i])**2, i)/2", total((o[i] - y[i]) ** 2) / 2),
    ("loss", "-sum(y[i]*log(o[i]) + (1-y[i])*log(1-o[i]), i)",
     -total(y[i] * log(o[i]) + (1 - y[i]) * log(1 - o[i]))),
    ("loss", "sum(o[i] - y[i]*log(o[i]), i)", total(o[i] - y[i] * log(o[i]))),
    ("loss", "0.25*sum(abs(o[i]-y[i]), i)", total(Abs(o[i] - y[i])) / 4),
    ("loss", "y[1]*o[1] + y[2]*o[2]", y[1] * o[1] + y[2] * o[2]),
    ("loss", "sum(sum(o[i]*o[j], j), i)", total(total(o[i] * o[j], j))),
    # claims
    ("claim", "o[k]-y[k]", o[k] - y[k]),
    ("claim", "o[k] - y[k]", o[k] - y[k]),
    ("claim", "(o[k]-y[k])/N", (o[k] - y[k]) / N),
    ("claim", "o[k]*(1-o[k])*(o[k]-y[k])", o[k] * (1 - o[k]) * (o[k] - y[k])),
    ("claim", "o[k]*sum(y[i], i) - y[k]", o[k] * total(y[i]) - y[k]),
    ("claim", "1 - tanh(z[k])**2", 1 - tanh(z[k]) ** 2),
    ("claim", "o[k]**0.5", sqrt(o[k])),
    ("claim", "0", Rational(0)),
    ("claim", "2**-1", Rational(1, 2)),
    # decimals are exact rationals, read from the text
    ("claim", "0.1", Rational(1, 10)),
    ("claim", ".25", Rational(1, 4)),
    ("claim", "3.", Rational(3)),
    ("claim", "1.10", Rational(11, 10)),
    ("claim", "0." + "3" * 29, Rational(int("3" * 29), 10**29)),  # 30 digits as written
    ("claim", "123456789012345678901234567890", Rational(123456789012345678901234567890)),
]


@pytest.mark.parametrize(("role", "text", "expected"), ACCEPTED, ids=[f"{r}:{t}" for r, t, _ in ACCEPTED])
def test_accepted_inputs_build_exact_trees(role, text, expected):
    result = parse_expression(text, role=role)
    assert result == expected
    assert srepr(result) == srepr(expected)  # same tree, same assumptions on every symbol


def test_softmax_text_is_the_catalogue_softmax():
    softmax = ACTIVATIONS["softmax"].formula(SUM_INDEX, CLASSES)
    assert parse_expression("exp(z[i])/sum(exp(z[j]), j)", role="activation") == softmax


def test_plain_z_is_real_and_n_is_a_positive_integer():
    (plain,) = parse_expression("z", role="activation").free_symbols
    assert plain.is_real
    (examples,) = parse_expression("N", role="claim").free_symbols
    assert examples.is_integer and examples.is_positive


def test_bad_role_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown role") as raised:
        parse_expression("z", role="gradient")
    assert not isinstance(raised.value, ParseError)


# --------------------------------------------------------------------------
# 2. Hostile corpus
# --------------------------------------------------------------------------

# (text, a fragment the message must contain).  {canary} is replaced by a file
# path in tmp_path; if any of these ran, that file would appear.
CODE_EXECUTION = [
    ("__import__('os').system('touch {canary}')", "attribute access"),
    ("__import__('os')", "double-underscore names"),
    ("__import__", "double-underscore names"),
    ("__builtins__", "double-underscore names"),
    ("__builtins__['open']('{canary}', 'w')", "double-underscore names"),
    ("z.__class__", "attribute access"),
    ("().__class__", "attribute access"),
    ("().__class__.__mro__[1].__subclasses__()", "attribute access"),
    ("().__class__.__base__.__subclasses__()[0]", "attribute access"),
    ("sum.__globals__", "attribute access"),
    ("exp.__globals__['__builtins__']", "attribute access"),
    ("z.real", "attribute access"),
    ("exp(z).func", "attribute access"),
    ("(lambda: 1)()", "lambda"),
    ("(lambda: __import__('os').system('touch {canary}'))()", "lambda"),
    ("lambda z: z", "lambda"),
    ("[x for x in ()]", "comprehensions"),
    ("{x for x in ()}", "comprehensions"),
    ("{x: 1 for x in ()}", "comprehensions"),
    ("exp(x for x in (z,))", "generator expressions"),
    ("(x for x in ())", "generator expressions"),
    ('f"{1}"', "f-strings"),
    ("f\"{__import__('os').system('touch {canary}')}\"", "f-strings"),
    ("(x:=1)", "assignment expressions"),
    ("exp(w:=z)", "assignment expressions"),
    ("*z", "invalid syntax"),
    ("exp(*z)", "starred expressions"),
    ("exp(**z)", "keyword arguments"),
    ("exp(z)(z)", "calling the result of a call"),
    ("exp(z)()", "calling the result of a call"),
    ("(z)(1)", "'z' is not a function"),
    ("(1)(2)", "calling anything but a function name"),
    ("'a'.join", "attribute access"),
    ("open('{canary}', 'w')", "unknown function 'open'"),
    ("open('/etc/passwd')", "unknown function 'open'"),
    ("globals()", "unknown function 'globals'"),
    ("locals()", "unknown function 'locals'"),
    ("vars()", "unknown function 'vars'"),
    ("getattr(z, 'x')", "unknown function 'getattr'"),
    ("setattr(z, 'x', 1)", "unknown function 'setattr'"),
    ("eval('1')", "unknown function 'eval'"),
    ("exec('1')", "unknown function 'exec'"),
    ("exec(\"open('{canary}', 'w')\")", "unknown function 'exec'"),
    ("compile('1', '', 'eval')", "unknown function 'compile'"),
    ("breakpoint()", "unknown function 'breakpoint'"),
    ("input()", "unknown function 'input'"),
    ("print(1)", "unknown function 'print'"),
    ("sympify('z')", "unknown function 'sympify'"),
    ("S('z')", "unknown function 'S'"),
    ("Symbol('x')", "unknown function 'Symbol'"),
    ("z[__import__('os')]", "an index must be"),
    ("z[__import__('os').system('touch {canary}')]", "an index must be"),
    ("exp(z, extra=1)", "keyword arguments"),
    ("exp(z=1)", "keyword arguments"),
    ("exp(**{'z': 1})", "keyword arguments"),
    ("os", "unknown name 'os'"),
    ("1+os", "unknown name 'os' at column 3"),
    ("x", "unknown name 'x'"),
    ("'z'", "string literals"),
    ("b'z'", "string literals"),
    ("z if z else z", "conditional expressions"),
    ("z < 1", "comparisons"),
    ("z == z", "comparisons"),
    ("1 is 1", "comparisons"),
    ("z and z", "'and'/'or'"),
    ("not z", "'not'"),
    ("~z", "'~'"),
    ("z % 2", "'%'"),
    ("z // 2", "'//'"),
    ("z @ z", "'@'"),
    ("z & 1", "'&'"),
    ("z | 1", "'|'"),
    ("z ^ 2", "'^'"),
    ("z << 1", "'<<'"),
    ("[z]", "lists"),
    ("(z, z)", "tuples"),
    ("{'a': z}", "dicts"),
    ("{z}", "sets"),
    ("...", "'...'"),
    ("None", "'None'"),
    ("True", "'True'"),
    ("await z", "'await'"),
    ("(yield z)", "'yield'"),
    ("(yield from z)", "'yield from'"),
    ("z[1:2]", "slices"),
    ("z[::-1]", "slices"),
    ("z[i, j]", "an index must be"),
    ("z[-1]", "an index must be"),
    ("z[0]", "an index must be"),
    ("z[1.5]", "an index must be"),
    ("z[z]", "an index must be"),
    ("(z+1)[i]", "indexing anything but o, y or z"),
    ("exp(z)[i]", "indexing anything but o, y or z"),
    ("import os", "invalid syntax"),
    ("z = 1", "invalid syntax"),
    ("z; __import__('os')", "invalid syntax"),
    ("1j", "complex numbers"),
    ("0x10", "non-decimal numbers"),
    ("1_000", "underscores in numbers"),
    ("1e5", "scientific notation"),
    # look-alikes and control characters never reach the parser
    ("\uff45\uff58\uff50(z)", "U+FF45"),                # fullwidth 'exp'
    ("\u0435xp(z)", "U+0435"),                          # Cyrillic 'e'
    ("__\uff49mport__('os')", "U+FF49"),                # NFKC would make this __import__
    ("\U0001d467", "U+1D467"),                          # mathematical italic z
    ("z\u200b", "U+200B"),                              # zero-width space
    ("z \u2212 1", "U+2212"),                           # minus sign
    ("z\u202e", "U+202E"),                              # right-to-left override
    ("z\x00", "U+0000"),
    ("z\n+1", "U+000A"),
    ("z\t", "U+0009"),
    ("\x1b[31mz", "U+001B"),
    ("", "empty expression"),
    ("   ", "empty expression"),
]

# Role-specific names are refused outside their role.
WRONG_NAMES = [
    ("activation", "o[i]", "'o' is not allowed in an activation"),
    ("activation", "N", "unknown name 'N'"),
    ("activation", "z + z[i]", "not both"),
    ("activation", "exp(z[i])/sum(exp(z[i]), i)", "sum may not run over 'i'"),
    ("loss", "o", "'o' needs an index"),
    ("loss", "z[i]", "'z' is not allowed in a loss"),
    ("loss", "z", "unknown name 'z'"),
    ("loss", "t[i]", "unknown name 't'"),
    ("loss", "sum(sum(o[i], i), i)", "already bound"),
    ("loss", "sum(o[i], 1)", "the index of sum must be"),
    ("loss", "sum(o[i])", "sum() takes an expression and an index"),
    ("loss", "sum(o[i], i, j)", "sum() takes an expression and an index"),
    ("loss", "i", "index 'i' can only appear"),
    ("claim", "t[k]", "unknown name 't'"),
    ("claim", "z", "'z' needs an index"),
    ("claim", "sum(o[k], k)", "sum may not run over 'k'"),
    ("claim", "exp", "is a function"),
    ("claim", "exp(o[k], y[k])", "takes exactly one argument"),
    ("claim", "log()", "takes exactly one argument"),
    ("claim", "ln(o[k])", "unknown function 'ln'"),
    ("claim", "max(o[k], 0)", "unknown function 'max'"),
    ("claim", "H", "unknown name 'H'"),
]

RESOURCE_EXHAUSTION = [
    ("9**9**9**9", "exponent too large"),
    ("(9**9)**(9**9)", "exponent too large"),
    ("10**1000000", "exponent too large"),
    ("z**99999999", "exponent too large"),
    ("z**(10**30)", "exponent too large"),
    ("2**101", "exponent too large"),
    ("(z**100)**100", "exponent too large"),
    ("z**100*z**100", "exponent too large"),
    ("exp(10**30*log(2))", "exponent too large"),        # SymPy would compute 2**(10**30)
    ("exp(1)**(10**30*log(2))", "exponent too large"),
    ("exp(sqrt(2)*(10**30*log(2)+log(3)))", "exponent too large"),
    ("7**99*7**99", "number too large"),
    ("(10**30)**4", "number too large"),
    ("1/0", "undefined value"),
    ("log(0)", "undefined value"),
    ("0**-1", "undefined value"),
    ("sqrt(-1)", "complex value"),
    ("log(-1)", "complex value"),
    ("1234567890123456789012345678901234567890", "40 digits"),
    ("0.1234567890123456789012345678901", "32 digits (at most 30)"),
    ("(" * 100_000 + "z" + ")" * 100_000, "expression too long"),
    ("z+" * 5_000_000 + "z", "expression too long"),              # 10 MB
    ("exp(" * 1000 + "z" + ")" * 1000, "expression too long"),
    ("(" * 500 + "z" + ")" * 500, "nested too deeply"),           # Python's own parser gives up
    ("exp(" * 70 + "z" + ")" * 70, "nested too deeply"),
    ("-" * 1500 + "z", "nested too deeply"),
    ("+".join(["z"] * 100), "nested too deeply"),
    ("z**" * 80 + "z", "nested too deeply"),
]


def _balanced(parts: list[str], op: str) -> str:
    while len(parts) > 1:
        parts = [f"({parts[n]}{op}{parts[n + 1]})" if n + 1 < len(parts) else parts[n]
                 for n in range(0, len(parts), 2)]
    return parts[0]


RESOURCE_EXHAUSTION.append((_balanced([f"o[{n}]" for n in range(1, 129)], "+"), "more than 500 parts"))


def _refusal(text: str, role: str = "activation") -> str:
    with pytest.raises(ParseError) as raised:
        parse_expression(text, role=role)
    message = str(raised.value)
    assert message and "\n" not in message and "\r" not in message, message
    assert len(message) < 300, message
    return message


@pytest.mark.parametrize(("text", "fragment"), CODE_EXECUTION, ids=[repr(t)[:60] for t, _ in CODE_EXECUTION])
def test_code_execution_attempts_are_refused_by_name(text, fragment, tmp_path):
    message = _refusal(text.replace("{canary}", str(tmp_path / "canary")))
    assert fragment in message


@pytest.mark.parametrize(("role", "text", "fragment"), WRONG_NAMES, ids=[f"{r}:{t}" for r, t, _ in WRONG_NAMES])
def test_names_outside_their_role_are_refused(role, text, fragment):
    assert fragment in _refusal(text, role)


@pytest.mark.parametrize(("text", "fragment"), RESOURCE_EXHAUSTION, ids=[repr(t)[:40] for t, _ in RESOURCE_EXHAUSTION])
def test_resource_exhaustion_is_refused_before_any_work(text, fragment):
    assert fragment in _refusal(text)


def test_hostile_corpus_is_big_enough():
    assert len(CODE_EXECUTION) + len(WRONG_NAMES) + len(RESOURCE_EXHAUSTION) >= 70


def test_canary_never_appears(tmp_path):
    canary = tmp_path / "canary"
    for text, _ in CODE_EXECUTION:
        for role in parse_module.ROLES:
            with pytest.raises(ParseError):
                parse_expression(text.replace("{canary}", str(canary)), role=role)
    assert not canary.exists()
    assert list(tmp_path.iterdir()) == []


def test_messages_point_at_the_offending_part():
    assert _refusal("1+os") == "unknown name 'os' at column 3; allowed in an activation: z or z[i], z[j], z[k]"
    assert _refusal("().__class__") == "attribute access is not allowed: '().__class__' at column 1"
    assert _refusal("  exp(z, extra=1)").endswith("'extra=1' at column 10")
    assert _refusal("z +* 2") == "invalid syntax at column 4"


@pytest.mark.parametrize("text", ["(" * 100_000 + "z" + ")" * 100_000, "-" * 100_000 + "z", "z**" * 30_000 + "z"],
                         ids=["parentheses", "unary-minus", "power-chain"])
def test_pythons_own_parser_limits_become_parse_errors(text, monkeypatch):
    """With the length limit lifted, ast.parse itself fails (SyntaxError or MemoryError): still one line."""
    monkeypatch.setattr(parse_text, "MAX_LENGTH", 10**7)
    assert "nested too deeply" in _refusal(text)


def test_sympy_evaluation_is_bounded_in_time():
    """SymPy's assumption queries on this take most of a minute; the build budget stops them."""
    before = signal.getsignal(signal.SIGALRM)
    message = _refusal("sqrt(cosh((o[k]+y[k]+z[k])**20)-1)", role="claim")
    assert "too complex" in message
    assert signal.getsignal(signal.SIGALRM) is before
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert parse_expression("o[k]-y[k]", role="claim") == o[k] - y[k]  # and nothing is left broken


def test_parsing_works_off_the_main_thread():
    """No signals there, so no budget, but the same answers."""
    results = []
    worker = threading.Thread(target=lambda: results.append(parse_expression("(o[k]-y[k])/N", role="claim")))
    worker.start()
    worker.join()
    assert results == [(o[k] - y[k]) / N]


def test_no_syntax_warning_escapes():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _refusal("1 is 1")
        _refusal("1(2)")
    assert caught == []


# --------------------------------------------------------------------------
# 3. The parser's own source never evaluates text
# --------------------------------------------------------------------------

@pytest.mark.parametrize("module", [parse_module, parse_text], ids=["parse", "parse_text"])
def test_parser_source_never_calls_an_evaluator(module):
    source = Path(module.__file__).read_text(encoding="utf-8")
    tree = ast.parse(source)
    evaluators = {"eval", "exec", "sympify", "parse_expr"}
    forbidden = evaluators | {"compile", "__import__", "S", "getattr_static"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
            regex = isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "re"
            assert name not in forbidden or regex, f"line {node.lineno} calls {name}"
            if name == "getattr":  # only on attribute names written in the source, never on user text
                assert isinstance(node.args[1], ast.Constant), f"line {node.lineno}: getattr on a computed name"
        if isinstance(node, ast.ImportFrom):
            assert not {alias.name for alias in node.names} & evaluators, f"line {node.lineno} imports an evaluator"
        if isinstance(node, ast.Name):
            assert node.id not in evaluators, f"line {node.lineno} names {node.id}"


# --------------------------------------------------------------------------
# 4. Property: anything in, ParseError or a SymPy object out
# --------------------------------------------------------------------------

ROLES = sorted(parse_module.ROLES)
ALPHABET = "zoyijkNHx0123456789.+-*/() ,[]_'eaxplogsqrtnhcbum:=<>!%&|~^@{}\\\"#"
TOKENS = ["z", "o", "y", "N", "i", "j", "k", "[", "]", "(", ")", ",", "+", "-", "*", "/", "**", "0", "1", "2",
          "0.5", "100", "10**30", "exp", "log", "sqrt", "tanh", "sinh", "cosh", "abs", "sum", " ", ".", "__class__"]


def _expressions():
    atoms = st.sampled_from(["z", "z[i]", "z[j]", "z[k]", "o[i]", "o[k]", "y[i]", "y[k]", "y[1]", "N",
                             "0", "1", "2", "0.5", ".5", "3.", "99", "101", "10**30"])

    def extend(inner):
        return st.one_of(
            st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "**"]), inner).map(lambda t: f"{t[0]}{t[1]}{t[2]}"),
            inner.map(lambda e: f"({e})"),
            inner.map(lambda e: f"-{e}"),
            st.tuples(st.sampled_from(["exp", "log", "sqrt", "tanh", "sinh", "cosh", "abs"]), inner)
            .map(lambda t: f"{t[0]}({t[1]})"),
            st.tuples(inner, st.sampled_from("ijk")).map(lambda t: f"sum({t[0]}, {t[1]})"),
        )

    return st.recursive(atoms, extend, max_leaves=12)


def _check_total(text: str, role: str) -> None:
    try:
        result = parse_expression(text, role=role)
    except ParseError as error:
        assert "\n" not in str(error) and "\r" not in str(error)
    else:
        assert isinstance(result, Basic)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200), st.sampled_from(ROLES))
def test_any_text_gives_parse_error_or_sympy(text, role):
    _check_total(text, role)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=80), st.sampled_from(ROLES))
def test_grammar_alphabet_gives_parse_error_or_sympy(text, role):
    _check_total(text, role)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=25).map("".join), st.sampled_from(ROLES))
def test_grammar_tokens_give_parse_error_or_sympy(text, role):
    _check_total(text, role)


@settings(max_examples=200, deadline=None)
@given(_expressions(), st.sampled_from(ROLES))
def test_well_formed_expressions_give_parse_error_or_sympy(text, role):
    _check_total(text, role)
