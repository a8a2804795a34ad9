"""The engine: a problem in, a derivation trail out.

``formulation`` writes the loss and its definitions, ``strategy`` applies the
rules of ``rules/`` (one record per rule, listed by ``rules.registry``) until
nothing changes, ``verdict`` judges the result, and ``derivation.derive`` runs
the whole.  The certifier (``derive.certify``) checks the trail independently.

This package's ``__init__`` imports nothing, so that importing one engine
module (a rule, ``inverse``) does not load the rest: import ``derive`` from
``derive.engine.derivation``.
"""
