"""Canonical SymPy symbols shared by every layer.

The engine, the certifier and the JSON always use these names (``o``, ``y``,
``z``, ``e``).  What a reader sees (``O``, ``Z``, ``t`` ...) is decided by the
notation at render time, never here.  These are immutable constants, not state.
"""

from sympy import IndexedBase, Symbol

OUTPUT = IndexedBase("o")   # O_i, the activation's output for class i
TARGET = IndexedBase("y")   # y_i, the ground-truth value for class i
INPUT = IndexedBase("z")    # Z_i, the activation's input (logit) for class i
ERROR = IndexedBase("e")    # e_i, the per-class error whose sum is E

SUM_INDEX = Symbol("i", integer=True, positive=True)    # the loss's summation index
FREE_INDEX = Symbol("k", integer=True, positive=True)   # the input we differentiate by
INNER_INDEX = Symbol("j", integer=True, positive=True)  # the activation's own summation index
SECOND_INDEX = Symbol("l", integer=True, positive=True)  # the second input we differentiate by (--second)

CLASSES = Symbol("H", integer=True, positive=True)      # number of classes when H is symbolic

LOSS_NAME = "E"  # the loss is always shown as dE/dZ_k; its display name lives in the notation

# the mean over a data set (``--reduction mean``): N examples, the one we differentiate for is m
EXAMPLES = Symbol("N", integer=True, positive=True)
ELEMENTWISE_INPUT = Symbol("z", real=True)  # plain ``z`` in an elementwise activation a user writes
EXAMPLE_INDEX = Symbol("n", integer=True, positive=True)
THIS_EXAMPLE = Symbol("m", integer=True, positive=True)
OTHER_LOSS = IndexedBase("L")  # L_n, the loss of example n; for n != m it does not depend on example m's inputs

# the network below the output layer (``derive pair ... --wrt W|b|x``): Z_k = Σ_d W_kd x_d + b_k
WEIGHT = IndexedBase("W")          # W_kd, the output layer's weights (H × D)
BIAS = IndexedBase("b")            # b_k, the output layer's biases
NETWORK_INPUT = IndexedBase("x")   # x_d, the network's inputs
INPUTS = Symbol("D", integer=True, positive=True)       # the number of inputs when it is symbolic
INPUT_INDEX = Symbol("d", integer=True, positive=True)  # runs over the inputs
LOSS = Symbol("E")                 # the loss as one quantity, ∂E/∂W_kj: it stands for Σ_i e_i

# an optional hidden layer (``--hidden ACT2 --units M``): a_m = Σ_d V_md x_d + c_m, h_m = g(a_m)
HIDDEN_WEIGHT = IndexedBase("V")   # V_md (M × D)
HIDDEN_BIAS = IndexedBase("c")     # c_m
HIDDEN = IndexedBase("h")          # h_m = g(a_m), the hidden layer's outputs
PREACTIVATION = IndexedBase("a")   # a_m, the hidden layer's inputs
UNITS = Symbol("M", integer=True, positive=True)       # the number of hidden units when it is symbolic
UNIT_INDEX = Symbol("m", integer=True, positive=True)  # runs over the hidden units
# summation indices over the hidden units, in the order a derivation takes them (never a class index's name)
UNIT_SUM_INDICES = tuple(Symbol(name, integer=True, positive=True) for name in ("n", "p", "q", "r", "s"))
