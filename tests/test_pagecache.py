"""A warm process renders a MkDocs page once while its inputs stay the same, and again as soon
as one of them changes or the render said something (a broken link)."""

from __future__ import annotations

from pathlib import Path

import pytest
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

from trame import memo, pagecache
from trame.mkdocsconfig import load_mkdocs_config, mkdocs_messages

PROJECT = Path(__file__).resolve().parent.parent

TEXT = "# Titre\n\n## Partie {n}\n\nVoir [la méthode](methode.md) et [ailleurs]({target}).\n"


@pytest.fixture
def site(tmp_path):
    docs, out = tmp_path / "docs", tmp_path / "site"
    docs.mkdir()
    for name in ("index.md", "methode.md"):
        (docs / name).write_text("# Page\n", encoding="utf-8")
    options = {"config_file": str(PROJECT / "mkdocs.yml"), "site_name": "Essai"}
    config = load_mkdocs_config(options, str(docs), str(out), "assets")
    files = Files([File(n, str(docs), str(out), True) for n in ("index.md", "methode.md")])
    return config, files, docs, out


@pytest.fixture
def renders(monkeypatch):
    """Counts MkDocs' own renders."""
    made: list[str] = []
    original = Page.render

    def counted(self, config, files):
        made.append(self.file.src_uri)
        original(self, config, files)

    monkeypatch.setattr(Page, "render", counted)
    return made


def _page(site, n=1, target="methode.md", src="partie.md"):
    config, files, docs, out = site
    page = Page(None, File(src, str(docs), str(out), True), config)
    page.markdown, page.meta = TEXT.format(n=n, target=target), {}
    return page


def _rendered(page):
    return page.content, [(t.title, t.id) for t in page.toc], page.title, page.present_anchor_ids


def test_a_page_is_rendered_once_while_its_inputs_stay_the_same(site, renders):
    config, files, _, _ = site
    cold = _page(site)
    cold.render(config, files)  # MkDocs itself, no store
    with memo.kept():
        for _ in range(3):
            with memo.one_build():
                page = _page(site)
                pagecache.render(page, config, files)
                assert _rendered(page) == _rendered(cold)
        assert renders == ["partie.md"] * 2  # the cold one, then the first warm one
        with memo.one_build():
            changed = _page(site, n=2)
            for page in (changed, _page(site, src="autre.md")):
                pagecache.render(page, config, files)
            more = Files([*files, File("nouvelle.md", str(site[2]), str(site[3]), True)])
            pagecache.render(_page(site), config, more)
        assert renders == ["partie.md"] * 3 + ["autre.md", "partie.md"]
        assert "Partie 2" in changed.content


def test_a_render_that_warned_is_made_again(site, renders):
    config, files, _, _ = site
    with memo.kept(), mkdocs_messages() as warnings:
        for _ in range(2):
            with memo.one_build():
                pagecache.render(_page(site, target="absente.md"), config, files)
    assert renders == ["partie.md"] * 2
    assert len(warnings) == 2 and all("absente.md" in w for w in warnings)


def test_mkdocs_build_renders_through_the_cache_in_a_warm_process(tmp_path, renders):
    """MkDocs' own build goes through the hook: a second warm build renders no page again, and
    writes the same pages."""
    from trame import assemble, pages, theme
    from trame.config import load_config

    config = load_config(PROJECT / "layers" / "demo.yml")
    docs = tmp_path / "docs"
    pages.write_narrative_pages(docs)
    for generated in ("index.md", "communes/index.md", "traitement.md"):  # (the build's own)
        (docs / generated).parent.mkdir(exist_ok=True)
        (docs / generated).write_text("# Page\n", encoding="utf-8")
    spec = theme.prepare_theme(
        config, docs, tmp_path / "out", pages.explication_fragments(config), "policy"
    )
    built = []
    with memo.kept():
        for n in range(2):
            with memo.one_build():
                renders.clear()
                site = tmp_path / f"site{n}"
                assemble.mkdocs_build(docs, site, config, quiet=True, assets=spec.assets)
                built.append({p.relative_to(site): p.read_bytes() for p in site.rglob("*.html")})
                if n == 0:
                    assert renders  # (the first warm build renders its pages)
    assert renders == []
    assert built[0] == built[1] and built[0]
