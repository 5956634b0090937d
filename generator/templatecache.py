"""The theme's templates compiled once per process, whatever the number of Jinja environments.

MkDocs makes a new Jinja environment whenever its theme is asked for one (``Theme.get_env``):
MkDocs' build, the sitemap written again, the pages rendered outside MkDocs (:mod:`.theme`),
each compiles the same templates again. Measured on Nord's config: a new environment compiles
``main.html``, ``404.html`` and ``sitemap.xml`` in 27–40 ms (0.8–0.9 ms found here); a build
asks for such an environment two to three times, a warm process (``trame serve --watch``) at
every build.

Jinja's own bytecode cache does the rest: a template is found again by its name, its file and
its source's checksum (an edited template is compiled again). The key here also holds what in
an environment changes the compiled code (its extensions, syntax, escaping, ``finalize``,
async mode, gettext style), so that two environments set up differently never share a
template.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import jinja2
from jinja2.bccache import Bucket


class _MemoryCache(jinja2.BytecodeCache):
    """Compiled templates in this process's memory, by environment setup, name and file."""

    def __init__(self) -> None:
        self.code: dict[str, bytes] = {}

    def get_bucket(
        self, environment: jinja2.Environment, name: str, filename: str | None, source: str
    ) -> Bucket:
        setup = repr((
            sorted(environment.extensions), environment.autoescape, environment.optimized,
            environment.block_start_string, environment.block_end_string,
            environment.variable_start_string, environment.variable_end_string,
            environment.comment_start_string, environment.comment_end_string,
            environment.line_statement_prefix, environment.line_comment_prefix,
            environment.trim_blocks, environment.lstrip_blocks, environment.newline_sequence,
            environment.keep_trailing_newline, environment.finalize, environment.is_async,
            getattr(environment, "newstyle_gettext", None),
        ))  # fmt: skip
        key = hashlib.sha256(f"{setup}\0{name}\0{filename}".encode()).hexdigest()
        bucket = Bucket(environment, key, self.get_source_checksum(source))
        self.load_bytecode(bucket)
        return bucket

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self.code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.code[bucket.key] = bucket.bytecode_to_string()


CACHE = _MemoryCache()


def cached(get_env: Callable[[], jinja2.Environment]) -> Callable[[], jinja2.Environment]:
    """``get_env`` whose environments share this process's compiled templates."""

    def get_cached_env() -> jinja2.Environment:
        environment = get_env()
        environment.bytecode_cache = CACHE
        return environment

    return get_cached_env
