"""The command line: argument parsing, the commands, and writing their results.

``main`` parses and dispatches (``derive.__main__`` runs it), ``check`` and
``check_arguments`` are ``derive check``, ``verify`` is ``derive verify``,
``pipeline`` derives, certifies and renders a pair, and ``files`` writes
atomically.
"""
