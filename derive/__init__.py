"""derive: step-by-step, machine-certified gradient derivations."""

__version__ = "0.1.0"
