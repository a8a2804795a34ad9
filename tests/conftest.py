"""Shared pytest setup for the test suite.

Puts this folder on ``sys.path`` so tests can ``from tooling import ...``
whatever pytest's import mode (``prepend`` does this already for rootdir-less
conftests; ``importlib`` mode does not).
"""

import sys
from pathlib import Path

_TESTS_DIR = str(Path(__file__).resolve().parent)
if _TESTS_DIR not in sys.path:
    sys.path.insert(0, _TESTS_DIR)
