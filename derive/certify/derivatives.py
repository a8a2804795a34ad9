"""The fast evaluator's derivatives: partials by ``sympy.diff``, joined by the multivariable chain rule."""

from __future__ import annotations

from sympy import Add, Basic, Derivative, Dummy, Indexed, Integer, S, Subs, Sum, Symbol, UnevaluatedExpr, diff

from derive.certify.arithmetic import Arithmetic
from derive.certify.compile import MANY_ARGUMENTS
from derive.certify.fast_path import PointState, Unsupported, free_indices, index_value
from derive.certify.memory import SymbolicMemory
from derive.sums import SumExcept
from derive.symbols import CLASSES

_FORWARD = 8  # derivatives through at most this many intermediates are taken forwards, the rest backwards
_PLAIN = Dummy().assumptions0  # assumptions of a symbol about which nothing is known
_MISSING = object()


class Tape:
    """``f`` and everything it is made of, in an order where each node comes before what it uses."""

    __slots__ = ("top", "order", "position", "bodies", "edges", "parents")

    def __init__(self, top, order, bodies, edges, parents):
        self.top, self.order, self.bodies, self.edges, self.parents = top, order, bodies, edges, parents
        self.position = {owner: n for n, owner in enumerate(order)}  # order[0] is top


class Rate:
    """How fast one quantity changes with one leaf: directly, and through intermediates (forwards)."""

    __slots__ = ("direct", "through", "numbers")

    def __init__(self, direct, through, numbers):
        self.direct, self.through, self.numbers = direct, through, numbers

    def value(self, st: "PointState"):
        value = st.tangents.get(self)
        if value is None:
            env, add, mul, zero = st.env, self.numbers.add, self.numbers.mul, self.numbers.zero
            value = zero if self.direct is None else self.direct(env, st)
            for partial, rate in self.through:
                change = rate.value(st)
                if change != zero:
                    value = add(value, mul(partial(env, st), change))
            st.tangents[self] = value
        return value


class Differentiator:
    """Takes derivatives for the evaluator: partials by ``sympy.diff``, joined by the chain rule.

    ``compile`` turns an expression into a closure (the ``Compiler``'s ``function``), in the
    same arithmetic; the partials, tapes and bodies are symbolic and live in ``memory``, shared;
    the rates and sweeps (closures) are this differentiator's own.
    """

    def __init__(self, definitions: dict, arithmetic: Arithmetic, memory: SymbolicMemory, compile):
        self.definitions = definitions
        self.arithmetic = arithmetic
        self.memory = memory
        self.compile = compile
        self.rates: dict = {}  # (owner, leaf, kept base, H) -> its Rate (None: identically 0)
        self.linked: dict = {}  # (owner, kept base, H) -> its intermediates, their bodies, its partials by them
        self.sweeps: dict = {}  # Tape -> point -> the adjoints of its intermediates

    def clear(self) -> None:
        """Drop every closure and the link to the compiler (they refer back to it)."""
        self.rates.clear()
        self.linked.clear()
        self.sweeps.clear()
        self.compile = None

    def plan(self, function: Basic, variable: Basic, keep, env: dict, classes: int):
        """``∂f/∂x`` at given H and indices: the chain rule over what ``f`` is made of, the partials
        by ``sympy.diff``; returns ``point -> value``."""
        root = self._written(function, env)
        if any(symbol not in env for symbol in free_indices(variable, self.memory.free)):
            # The point gives the variable's index no value: a derivative at no class at all.  Both
            # sides would come out 0 and agree vacuously, so refuse instead of answering.
            raise Unsupported(f"the variable {variable} has an index with no value")
        leaf = self._written(variable, env)
        zero, add, mul = self.arithmetic.zero, self.arithmetic.add, self.arithmetic.mul
        if not self._wide(root, keep, classes):
            rate = self._rate(("root", root), root, leaf, keep, classes)
            return (lambda st: zero) if rate is None else rate.value
        tape = self._tape(root, classes, keep)
        owners = [
            (tape.position[owner], self.compile(self._partial(classes, owner, tape.bodies[owner], leaf)))
            for owner in tape.parents.get(leaf, ())
        ]
        if not owners:
            return lambda st: zero
        sweep = self._sweep(tape, classes)

        def backwards(st):
            adjoint = st.adjoints.get(tape)
            if adjoint is None:
                adjoint = st.adjoints[tape] = sweep(st)
            total = zero
            for position, partial in owners:
                weight = adjoint[position]
                if weight != zero:
                    total = add(total, mul(weight, partial(st.env, st)))
            return total

        return backwards

    def _wide(self, body: Basic, keep, classes: int) -> bool:
        """Whether some part of ``body`` is made of many intermediates (``Σ_i e_i``): then work backwards."""
        key = (body, keep, classes)
        wide = self.memory.wides.get(key)
        if wide is None:
            inner = self._inner(body, keep)
            wide = len(inner) > _FORWARD or any(self._wide(self._body(child, classes), keep, classes) for child in inner)
            self.memory.wides[key] = wide
        return wide

    def _rate(self, owner, body: Basic, leaf: Basic, keep, classes: int):
        """``∂ owner / ∂ leaf`` forwards: the partial by ``leaf`` itself, and through each intermediate
        of ``body`` (its partial times the intermediate's own rate).  ``None`` when it is identically 0."""
        key = (owner, leaf, keep, classes)
        rate = self.rates.get(key, _MISSING)
        if rate is not _MISSING:
            return rate
        direct = self.compile(self._partial(classes, owner, body, leaf)) if leaf in self._shape(body)[0] else None
        through = []
        for child, child_body, partial in self._links(owner, body, keep, classes):
            rate = self._rate(child, child_body, leaf, keep, classes)
            if rate is not None:
                through.append((partial, rate))
        rate = self.rates[key] = Rate(direct, tuple(through), self.arithmetic) if direct is not None or through else None
        return rate

    def _links(self, owner, body: Basic, keep, classes: int) -> list:
        """The intermediates ``body`` is made of, each with what it stands for and ``∂ owner / ∂ it``
        compiled: the same whatever leaf a rate is wanted for, so worked out once per owner."""
        key = (owner, keep, classes)
        links = self.linked.get(key)
        if links is None:
            links = self.linked[key] = [
                (child, self._body(child, classes), self.compile(self._partial(classes, owner, body, child)))
                for child in self._inner(body, keep)
            ]
        return links

    def _sweep(self, tape: Tape, classes: int):
        """``point -> [∂f/∂u for every intermediate u of the tape]`` (reverse accumulation)."""
        sweep = self.sweeps.get(tape)
        if sweep is None:
            steps = [
                (n, [(tape.position[child], self.compile(self._partial(classes, owner, tape.bodies[owner], child)))
                     for child in tape.edges[owner]])
                for n, owner in enumerate(tape.order)
            ]
            size, zero, one = len(tape.order), self.arithmetic.zero, self.arithmetic.one
            add, mul = self.arithmetic.add, self.arithmetic.mul

            def sweep(st):
                adjoint = [zero] * size
                adjoint[0] = one
                env = st.env
                for n, edges in steps:
                    weight = adjoint[n]
                    if weight == zero:
                        continue
                    for child, partial in edges:
                        adjoint[child] = add(adjoint[child], mul(weight, partial(env, st)))
                return adjoint

            self.sweeps[tape] = sweep
        return sweep

    def _tape(self, root: Basic, classes: int, keep) -> Tape:
        key = (root, classes, keep)
        tape = self.memory.tapes.get(key)
        if tape is None:
            tape = self.memory.tapes[key] = self._build_tape(root, classes, keep)
        return tape

    def _build_tape(self, root: Basic, classes: int, keep) -> Tape:
        """Everything ``root`` is made of; ``order`` lists each intermediate after every one that uses it."""
        top = ("root", root)
        bodies, edges, parents, finished = {top: root}, {}, {}, []
        for atom in self._shape(root)[0]:
            if not self._intermediate(atom, keep):
                parents.setdefault(atom, []).append(top)
        edges[top] = self._inner(root, keep)
        pending = [(top, iter(edges[top]))]
        while pending:  # depth first: an owner is finished once everything it uses is finished
            owner, children = pending[-1]
            for child in children:
                if child not in bodies:
                    body = bodies[child] = self._body(child, classes)
                    for atom in self._shape(body)[0]:
                        if not self._intermediate(atom, keep):
                            parents.setdefault(atom, []).append(child)
                    edges[child] = self._inner(body, keep)
                    pending.append((child, iter(edges[child])))
                    break
            else:
                pending.pop()
                finished.append(owner)
        finished.reverse()
        return Tape(top, finished, bodies, edges, parents)

    def _inner(self, body: Basic, keep) -> list:
        """The intermediates ``body`` is made of (defined quantities but ``keep``, written-out sums)."""
        key = (body, keep)
        inner = self.memory.inners.get(key)
        if inner is None:
            inner = self.memory.inners[key] = [atom for atom in self._shape(body)[0] if self._intermediate(atom, keep)]
        return inner

    def _intermediate(self, atom: Basic, keep) -> bool:
        if isinstance(atom, Indexed):
            return atom.base in self.definitions and atom.base != keep
        return atom in self.memory.sigma

    def _body(self, atom: Basic, classes: int) -> Basic:
        """What an intermediate stands for, written out at H = ``classes``."""
        total = self.memory.sigma.get(atom)
        if total is not None:
            return total
        key = (atom, classes)
        body = self.memory.bodies.get(key)
        if body is None:
            symbol, definition = self.definitions[atom.base]
            if len(atom.indices) != 1:
                raise Unsupported(f"definition of {atom}")
            body = self.memory.bodies[key] = self._written(definition, {CLASSES: classes, symbol: int(atom.indices[0])})
        return body

    def _shape(self, body: Basic) -> tuple:
        """The atoms ``body`` is made of (a dict, in a stable order), and for a long sum which terms hold each."""
        shape = self.memory.shapes.get(body)
        if shape is None:
            if isinstance(body, Add) and len(body.args) > MANY_ARGUMENTS:
                holders: dict = {}
                for term in body.args:
                    for atom in _atoms(term):
                        holders.setdefault(atom, []).append(term)
                shape = (dict.fromkeys(holders), holders)
            else:
                shape = (_atoms(body), None)
            self.memory.shapes[body] = shape
        return shape

    def _partial(self, classes: int, owner, body: Basic, atom: Basic) -> Basic:
        """``∂ body / ∂ atom`` by ``sympy.diff``, every other atom held fixed."""
        key = (classes, owner, atom)
        partial = self.memory.partials.get(key)
        if partial is None:
            holders = self._shape(body)[1]
            terms = (body,) if holders is None else holders.get(atom, ())
            partial = Add(*[self.derivative(term, atom) for term in terms])
            if partial.has(Derivative, Subs):  # SymPy could not take it: not a number, as before
                partial = S.NaN
            self.memory.partials[key] = partial
        return partial

    def derivative(self, expr: Basic, atom: Basic) -> Basic:
        """``sympy.diff(expr, atom)``, taken once per shape.

        The atoms of ``expr`` (indexed quantities and symbols without assumptions,
        all independent variables here) are renamed one to one to canonical
        symbols, so ``ln o_5 · y_5`` and ``ln o_7 · y_7`` are the same
        ``ln t_0 · t_1``; the derivative of that is taken by ``sympy.diff`` and
        renamed back.  Renaming variables commutes with differentiation.
        """
        if expr == atom:
            return S.One
        atoms = [a for a in self._shape(expr)[0] if a.assumptions0 == _PLAIN]
        while len(self.memory.names) < len(atoms):
            self.memory.names.append(Dummy(f"t{len(self.memory.names)}"))
        forward = dict(zip(atoms, self.memory.names))
        canonical = expr.xreplace(forward)
        variable = forward.get(atom, atom)
        key = (canonical, variable)
        derivative = self.memory.canonical.get(key)
        if derivative is None:
            derivative = self.memory.canonical[key] = diff(canonical, variable)
        return derivative.xreplace({name: a for a, name in forward.items()})

    def _written(self, node: Basic, env: dict) -> Basic:
        """``node`` at concrete H and indices, every sum written out as a named intermediate."""
        if not node.args:
            if isinstance(node, Symbol) and node in env:
                return Integer(env[node])
            return node
        key = (self.memory.key(node, env), env[CLASSES])
        done = self.memory.concrete.get(key)
        if done is None:
            if isinstance(node, Indexed):
                indices = tuple(index_value(index, env) for index in node.indices)
                done = self.memory.atoms.get((node.base, indices))
                if done is None:
                    done = self.memory.atoms[(node.base, indices)] = Indexed(node.base, *indices)
            elif isinstance(node, UnevaluatedExpr):
                done = self._written(node.args[0], env)
            elif isinstance(node, (Sum, SumExcept)):
                function, (index, lower, upper) = node.args[0], node.args[1]
                skip = index_value(node.args[2], env) if isinstance(node, SumExcept) else None
                inner, terms = dict(env), []
                for value in range(index_value(lower, env), index_value(upper, env) + 1):
                    if value != skip:
                        inner[index] = value
                        terms.append(self._written(function, inner))
                done = Dummy("sigma")
                self.memory.sigma[done] = Add(*terms)
            elif isinstance(node, Derivative):
                raise Unsupported("a derivative inside a derivative")
            else:
                done = node.func(*[self._written(arg, env) for arg in node.args], evaluate=False)
            self.memory.concrete[key] = done
        return done


def _atoms(expr: Basic) -> dict:
    """The leaves of a written-out expression (indexed quantities and symbols), in a stable order."""
    found: dict = {}
    pending = [expr]
    while pending:
        node = pending.pop()
        if isinstance(node, (Indexed, Symbol)):
            found[node] = None
        elif node.args:
            pending.extend(reversed(node.args))
    return found
