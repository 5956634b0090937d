"""MkDocs' config for the site: ``mkdocs.yml`` with the territory's overrides (its name, the
theme's words, the navigation), the theme's templates, and the static files' hashed folder;
shared by MkDocs' build (:mod:`generator.assemble`) and the pages rendered outside it
(:mod:`generator.theme`).
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from . import memo, pagecache, templatecache
from .config import Config, build_date
from .dsfr import inline_styles
from .errors import UserError
from .paths import DEFAULT_THEME_DIR, MKDOCS_CONFIG, theme_dirs

ASSETS = "assets"


NAV = [
    {"Accueil": "index.md"},
    {"Communes": "communes/index.md"},
    {"Méthode et données": "methode.md"},
    {"Traitement des données": "traitement.md"},
    {"À propos": "a-propos.md"},
    {"Accessibilité": "accessibilite.md"},
]


def theme_context(config: Config, release: dict[str, Any] | None = None) -> dict[str, Any]:
    """What the theme's templates read from MkDocs' ``extra``: the territory's words, and the
    release the site shows (``release``: :meth:`generator.releases.info.ReleaseInfo.theme`)."""
    from .french import french_date

    return {
        "trame": {
            "territory": config.name,
            "fictitious": config.fictitious,
            "data_date": french_date(config),
            "build_date": build_date(config).strftime("%d/%m/%Y"),
            "sources": list(config.sources),
            "licence": config.licence,
            "producer": config.producer,
            "theme": config.theme,
            "marianne": list(config.dsfr.marianne),
            "service": config.dsfr.service or config.name,
            "tagline": config.dsfr.tagline,
            **(release or {}),
            # The DSFR theme's inlined rules, minified (main.html falls back on its includes).
            **({"styles": inline_styles(theme_dirs("dsfr"))} if config.theme == "dsfr" else {}),
        }
    }


def mkdocs_options(config: Config, release: dict[str, Any] | None = None) -> dict[str, Any]:
    """The overrides of ``mkdocs.yml`` for this territory (and ``release``, see
    :func:`theme_context`), shared by MkDocs' build and by the pages rendered outside it
    (everything but ``docs_dir`` and ``site_dir``)."""
    options: dict[str, Any] = {
        "config_file": str(MKDOCS_CONFIG), "site_name": config.name,
        "extra": theme_context(config, release), "nav": NAV, "strict": True,
    }  # fmt: skip
    if config.site_url:
        options["site_url"] = config.site_url
    return options


class Said(logging.Handler):
    """What MkDocs said from the warning level up, while registered on its logger."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextlib.contextmanager
def mkdocs_messages(quiet: bool = True) -> Iterator[list[str]]:
    """MkDocs' warnings during a step (a broken link…), collected whatever ``quiet`` (strict
    mode is made of them), and shown on stderr unless ``quiet``. Silencing MkDocs by its
    logger's level, as before, also hid them from strict mode: a broken link in the explanatory
    text passed unseen."""
    collect = Said()
    logger = logging.getLogger("mkdocs")
    handlers: list[logging.Handler] = [collect]
    if not quiet:
        shown = logging.StreamHandler(sys.stderr)
        shown.setLevel(logging.WARNING)
        handlers.append(shown)
    level, propagate = logger.level, logger.propagate
    logger.setLevel(logging.WARNING)
    logger.propagate = False  # (shown here or not at all, never by logging's last resort)
    for handler in handlers:
        logger.addHandler(handler)
    try:
        yield collect.messages
    finally:
        for handler in handlers:
            logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


class AssetsPlugin:
    """Registered on MkDocs' config (its plugin events): the theme's ``url`` filter sends
    ``assets/…`` to the hashed folder, for MkDocs' pages and for those rendered outside it."""

    def __init__(self, folder: str):
        self.folder = folder

    def on_env(self, env, /, *, config, files):
        from jinja2 import pass_context

        original = env.filters["url"]

        @pass_context
        def url(context, value):
            value = str(value)
            if value == ASSETS or value.startswith(ASSETS + "/"):
                value = self.folder + value[len(ASSETS) :]
            return original(context, value)

        env.filters["url"] = url
        return env


def load_mkdocs_config(
    options: dict[str, Any], docs_dir: str, site_dir: str, assets: str, theme: str = "default"
):
    """MkDocs' config with the build's options, the templates of ``theme`` (``default`` or
    ``dsfr``) and the static files' folder ``assets`` (:func:`write_assets`)."""
    from mkdocs.config import load_config

    try:
        mkdocs_config = load_config(**options, docs_dir=docs_dir, site_dir=site_dir)
    except Exception as error:  # MkDocs' own config errors (e.g. an unknown theme)
        raise UserError(
            f"{MKDOCS_CONFIG} : MkDocs ne peut pas lire sa configuration ({error}) ; corrigez ce "
            "fichier (le thème, les extensions Markdown…)"
        ) from None
    # mkdocs.yml names the default theme's folder; the theme's own folders replace it.
    folders = mkdocs_config.theme.dirs
    resolved = [Path(d).resolve() for d in folders]
    if DEFAULT_THEME_DIR in resolved:
        at = resolved.index(DEFAULT_THEME_DIR)
        folders[at : at + 1] = [str(d) for d in theme_dirs(theme)]
    if assets != ASSETS:
        mkdocs_config.plugins["trame-assets"] = AssetsPlugin(assets)
    if memo.active():
        mkdocs_config.plugins["trame-page-cache"] = pagecache.RenderCache()
    mkdocs_config.theme.get_env = templatecache.cached(mkdocs_config.theme.get_env)
    return mkdocs_config
