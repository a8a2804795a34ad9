"""The arguments of ``derive check``, kept apart from the command itself.

``derive``'s parser registers every subcommand on each run, so this module must
stay cheap to import; the claim checker (:mod:`derive.cli.check` and
:mod:`derive.check.claims`) loads only when ``check`` runs.
"""

from __future__ import annotations

import argparse

from derive import catalog
from derive.cli.usage import whole_number
from derive.problem import MAX_CHECK_CLASSES, TARGET_KINDS

FORMATS = ("text", "md", "tex", "json")


def add_parser(commands) -> argparse.ArgumentParser:
    """Register ``check`` on the subparsers object of ``derive``'s parser."""
    check_cmd = commands.add_parser("check", help="check a claimed gradient and explain the mistake")
    check_cmd.add_argument("names", nargs="*", metavar="ACTIVATION LOSS",
                           help=f"activation: {', '.join(catalog.ACTIVATIONS)}; loss: {', '.join(catalog.LOSSES)}")
    check_cmd.add_argument("--activation", dest="activation_expr", default=None,
                           help="a user-defined activation, as in derive pair, e.g. '1/(1+exp(-z))'")
    check_cmd.add_argument("--loss", dest="loss_expr", default=None,
                           help="a user-defined loss, as in derive pair, e.g. '-sum(y[i]*log(o[i]), i)'")
    check_cmd.add_argument("--wrt", choices=("z", "o"), default="z", help="the claim is dE/dz_k (default) or dE/do_k")
    check_cmd.add_argument("--claim", required=True, help="the claimed derivative, e.g. 'o[k] - y[k]' "
                                                          "(write --claim=EXPR when it starts with a minus)")
    check_cmd.add_argument("--H", dest="classes", type=whole_number("--H", MAX_CHECK_CLASSES), default=None, help="a concrete number of classes")
    check_cmd.add_argument("--targets", choices=TARGET_KINDS, default=None, help="what the targets satisfy (default: the loss's own)")
    check_cmd.add_argument("--format", dest="format", choices=FORMATS, default="text", help="text (default), md, tex or json")
    return check_cmd
