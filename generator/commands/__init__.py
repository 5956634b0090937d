"""The ``trame`` commands, one module each (as MkDocs has them): its name, its help, its options
(``add_arguments``) and what it does (``run``, which returns the exit status). Each calls one
stage of the pipeline, imported when the command runs (``trame serve`` never loads the build).
"""

from __future__ import annotations

from . import build, check_deploy, deploy, init, new, rollback, serve, tiles, validate

COMMANDS = (new, build, tiles, validate, serve, deploy, rollback, init, check_deploy)
"""In the order ``trame --help`` lists them."""
