"""Independent certification of every step.

Nothing here uses the rules.  A step ``before -> after`` is instantiated at
several concrete class counts H, at every pattern of equal and unequal free
indices, and at random points; unevaluated derivatives are evaluated with
``sympy.diff`` (with respect to an intermediate such as ``O_i`` *before* its
definition is substituted); both sides are then compared at 50 significant
digits when they differ in floats (below).  The final result is compared with
``sympy.diff`` of the loss itself.

How the numbers are computed (``Evaluator``) is built for speed; what is checked
is what it always was, at the same H, index patterns and random points:

* Floats first.  Both sides are computed in machine floats and accepted when
  they match to ``FLOAT_DIGITS`` (12) significant digits.  When they do not
  (a wrong step, or a value floats cannot compute: an overflow, cancellation,
  a division by zero), the same point is computed again with mpmath's binary
  floats at 193 bits (58 digits; the random values have 169 bits, SymPy's 50
  digits, as before), and that decides, to 38 digits.  The points, H values
  and index patterns are the same whichever arithmetic decides; the two
  evaluators share their symbolic work (``SymbolicMemory``).
* A sum at concrete H is a loop, not a SymPy expression with H terms, and a
  defined quantity such as ``o_m`` is computed once per random point, from its
  definition, and reused.  Each expression is compiled once into Python
  closures, written once against an ``Arithmetic`` (``derive.certify.arithmetic``).
* A derivative ``∂f/∂x`` is still taken by ``sympy.diff``, but piece by piece.
  ``f`` is written out at the concrete H and indices with every defined
  quantity (``o_m``, ``e_m``) and every written-out sum (``Σ_j e^{z_j}``) kept
  as a named intermediate; ``sympy.diff`` gives each piece's partial
  derivatives, and the multivariable chain rule joins them: ``∂f/∂x`` is the
  sum over the paths from ``f`` to ``x`` of the products of the partials.
  Small ``f`` go forwards (rates of change shared between derivatives at the
  same point), ``f`` made of many intermediates (``Σ_i e_i``) backwards (one
  pass serves every ``x``).  The partials are symbolic and computed once per
  run and per shape (``ln o_5 · y_5`` and ``ln o_7 · y_7`` share one
  ``sympy.diff``); only their values change from point to point.
* Everything remembered is keyed on content: an expression, H, and the values
  of the indices the expression depends on (within a random point, the point).
  ``Evaluator(definitions, cache=False)`` forgets everything before each value;
  the tests check that it agrees with the cached evaluation.
* Whatever the fast path does not cover (higher or nested derivatives, a
  summation index that is also a free index, complex values) is computed the
  original way by ``ReferenceEvaluator``: sums expanded, definitions
  substituted, ``sympy.diff`` of the whole, ``evalf``.
* The gradient components (concrete H) are checked at ``POINTS`` random points
  per H each, as before, but the points are drawn once and shared by the H
  components, so that check is linear in H rather than quadratic.
"""

from derive.certify.core import CHECK_CLASSES, POINTS, REFERENCE_CLASSES, CertificationError, Certifier, certify
from derive.certify.evaluator import Evaluator
from derive.certify.arithmetic import FLOAT_DIGITS
from derive.certify.numbers import AGREEMENT, PRECISION, TOLERANCE, agree_numbers, mpf_of
from derive.certify.points import MAX_INDEX_PATTERNS, World, random_values
from derive.certify.reference import ReferenceEvaluator

__all__ = [
    "AGREEMENT",
    "FLOAT_DIGITS",
    "CHECK_CLASSES",
    "MAX_INDEX_PATTERNS",
    "POINTS",
    "PRECISION",
    "REFERENCE_CLASSES",
    "TOLERANCE",
    "CertificationError",
    "Certifier",
    "Evaluator",
    "ReferenceEvaluator",
    "World",
    "agree_numbers",
    "certify",
    "mpf_of",
    "random_values",
]
