"""derive: step-by-step, machine-certified gradient derivations.

``derive.derive_pair("softmax", "cross-entropy")`` derives and certifies a pair and
returns a :class:`~derive.cli.pipeline.Derivation` (Markdown, LaTeX, JSON, PDF, and the
SymPy result).  Importing ``derive`` stays cheap: SymPy and the engine load on the
first call.
"""

__version__ = "0.1.0"

__all__ = ["__version__", "derive_pair"]


def derive_pair(activation, loss, **options):
    """Derive and certify ``∂E/∂z_k`` for a named pair; see :func:`derive.api.derive_pair`."""
    from derive.api import derive_pair as _derive_pair

    return _derive_pair(activation, loss, **options)
