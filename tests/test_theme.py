"""Commune pages rendered outside MkDocs' build are the pages MkDocs would build, for the
project's theme and for any other theme configured (same code path)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from trame import assemble, mkdocsconfig, pages, theme
from trame.config import load_config
from trame.figures import CommuneView, FeaturesIndex
from trame.territory import load_territory

PROJECT = Path(__file__).resolve().parent.parent

# A theme unlike the project's: it reads the navigation (and which item is active), the table
# of contents, the page's metadata and URLs, the url filter and the config's extra.
OTHER_THEME = """<!doctype html><html><head><title>{{ page.title }} · {{ config.site_name }}</title>
<meta name="description" content="{{ page.meta.description }}"></head><body>
<nav>{% for item in nav %}<a href="{{ item.url|url }}"{% if item.active %} aria-current="page"{% endif %}>{{ item.title }}</a>{% endfor %}</nav>
<aside>{% for heading in page.toc %}<a href="{{ heading.url }}">{{ heading.title }}</a>{% for sub in heading.children %}<i>{{ sub.title }}</i>{% endfor %}{% endfor %}</aside>
<p>{{ base_url }}|{{ page.url }}|{{ page.canonical_url }}|{{ page.is_homepage }}|{{ page.update_date }}|{{ 'api/style.json'|url }}|{{ 'assets/autre.css'|url }}|{{ config.extra.trame.territory }}</p>
<main>{{ page.content }}</main></body></html>
"""


@pytest.fixture(params=["project theme", "dsfr theme", "other theme"])
def configured_theme(request, monkeypatch, tmp_path):
    if request.param == "dsfr theme":
        from trame.dsfr import require_dsfr
        from trame.errors import UserError

        try:
            require_dsfr()
        except UserError as error:
            pytest.skip(f"the DSFR theme is not installed: {error}")
    if request.param == "other theme":
        custom = tmp_path / "autre-theme"
        custom.mkdir()
        (custom / "main.html").write_text(OTHER_THEME, encoding="utf-8")
        (custom / "404.html").write_text("introuvable", encoding="utf-8")
        options = mkdocsconfig.mkdocs_options

        def other(config, release=None):
            return options(config, release) | {"theme": {"name": None, "custom_dir": str(custom)}}

        monkeypatch.setattr(mkdocsconfig, "mkdocs_options", other)
    return request.param


def test_pages_rendered_outside_mkdocs_are_the_pages_mkdocs_would_build(configured_theme, tmp_path):
    """A commune page, the home page and the commune list: each rendered outside MkDocs (body
    in HTML, Markdown section rendered once, the theme around) and built by MkDocs from the
    same page in Markdown (its section left as Markdown): the same bytes."""
    config = load_config(PROJECT / "layers" / "demo.yml")
    if configured_theme == "dsfr theme":
        config = config.model_copy(update={"theme": "dsfr"})
    territory = load_territory(config)
    index = FeaturesIndex(territory.features)
    commune = max(territory.communes, key=lambda c: len(c.name))
    view = CommuneView(commune, index.figures(commune.geometry), (1.0, 2.0, 3.0, 4.0))
    figures = index.figures(territory.outline)
    env = pages.environment()
    docs = tmp_path / "docs"
    pages.write_narrative_pages(docs)
    (docs / "traitement.md").write_text("# Traitement\n", encoding="utf-8")
    spec = theme.prepare_theme(
        config, docs, tmp_path / "out", pages.explication_fragments(config), "policy"
    )
    renderer = theme.ThemeRenderer(spec)
    markdown = pages.explication_markdown(env, config)

    def both(render, fragment: str | None) -> tuple[pages.PageBody, str, pages.PageBody]:
        if fragment is None:
            body = source = render(None)
            toc = theme.empty_toc()
        else:
            body, source = render(spec.fragments[fragment].html), render(markdown)
            toc = spec.fragments[fragment].toc
        return body, renderer.render(body.src_uri, body.title, body.meta, body.content, toc), source

    cases = [
        both(lambda text: pages.render_commune(env, config, view, text), pages.EXPLICATION),
        both(lambda text: pages.render_index(env, config, territory.communes, view.bbox,
                                             figures, text), pages.EXPLICATION_HOME),
        both(lambda _: pages.render_commune_list(env, config, territory.communes)[0], None),
    ]  # fmt: skip
    for body, _, source in cases:
        front_matter = yaml.safe_dump(body.meta, allow_unicode=True, sort_keys=True)
        page = docs / body.src_uri
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(f"---\n{front_matter}---\n\n{source.content}\n", encoding="utf-8")
    assemble.mkdocs_build(docs, tmp_path / "site", config, quiet=True, assets=spec.assets)
    for body, direct, _ in cases:
        stem = body.src_uri.removesuffix(".md").removesuffix("index")
        built = (tmp_path / "site" / stem.rstrip("/") / "index.html").read_text(encoding="utf-8")
        assert direct == built, body.src_uri

    direct = cases[0][1]
    assert "Méthode" in direct and commune.insee in direct and "titre-tvb" in direct
    assert f"{spec.assets}/" in direct and (tmp_path / "out" / spec.assets).is_dir()
    assert 'aria-current="page"' in cases[1][1]  # the home page's navigation item
    if configured_theme == "dsfr theme":
        assert "fr-header" in direct
    if configured_theme == "other theme":
        assert '<aside><a href="#titre-tvb">La trame verte et bleue</a><i>' in direct
        assert "<p>../..|communes/" in direct and "../../api/style.json" in direct


def test_the_spec_is_small_and_plain(tmp_path):
    """What every task carries: a few kilobytes, no MkDocs object but the table of contents."""
    import pickle

    config = load_config(PROJECT / "layers" / "demo.yml")
    docs = tmp_path / "docs"
    pages.write_narrative_pages(docs)
    spec = theme.prepare_theme(
        config, docs, tmp_path / "out", pages.explication_fragments(config), "policy"
    )
    assert len(pickle.dumps(spec)) < 40_000
    assert json.loads(spec.options)["site_name"] == config.name
    assert "index.md" in spec.documentation and "methode.md" in spec.documentation


def test_a_broken_link_in_the_explanatory_text_stops_the_build_even_quiet(tmp_path):
    """MkDocs' warnings are strict mode's matter: silencing MkDocs must not hide them (its
    logger's level did, and a broken link in the explanatory text passed unseen)."""
    from trame.errors import UserError

    config = load_config(PROJECT / "layers" / "demo.yml")
    docs = tmp_path / "docs"
    pages.write_narrative_pages(docs)
    fragments = pages.explication_fragments(config)
    name, (src_uri, text) = next(iter(fragments.items()))
    fragments[name] = (src_uri, text + "\n\nVoir [la page](inexistante.md).\n")
    with pytest.raises(UserError, match=r"srce-tvb-nord-pas-de-calais.md : MkDocs signale.*"
                       r"inexistante\.md.* ; corrigez ce texte explicatif"):  # fmt: skip
        theme.prepare_theme(config, docs, tmp_path / "out", fragments, "policy")
    theme.prepare_theme(config, docs, tmp_path / "ok", pages.explication_fragments(config), "p")


@pytest.mark.parametrize("quiet", [True, False])
def test_a_broken_link_in_a_narrative_page_stops_mkdocs(tmp_path, capsys, quiet):
    from trame.errors import UserError

    config = load_config(PROJECT / "layers" / "demo.yml")
    docs = tmp_path / "docs"
    pages.write_narrative_pages(docs)
    spec = theme.prepare_theme(
        config, docs, tmp_path / "out", pages.explication_fragments(config), "policy"
    )
    page = docs / "methode.md"
    page.write_text(page.read_text(encoding="utf-8") + "\n[ailleurs](absente.md)\n", "utf-8")
    with pytest.raises(UserError, match=r"MkDocs n'a pas pu construire le site \(.*absente\.md"):
        assemble.mkdocs_build(docs, tmp_path / "site", config, quiet=quiet, assets=spec.assets)
    assert ("absente.md" in capsys.readouterr().err) is not quiet
