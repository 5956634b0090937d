"""templatecache: the theme's templates compiled once per process, never served stale."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest

from trame import templatecache
from trame.config import load_config
from trame.mkdocsconfig import load_mkdocs_config, mkdocs_options

PROJECT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def empty_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(templatecache, "CACHE", templatecache._MemoryCache())


def compiles(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the templates Jinja compiles from now on."""
    names: list[str] = []
    compile_ = jinja2.Environment.compile

    def spy(self, source, name=None, filename=None, raw=False, defer_init=False):  # type: ignore[no-untyped-def]
        names.append(name)
        return compile_(self, source, name, filename, raw, defer_init)

    monkeypatch.setattr(jinja2.Environment, "compile", spy)
    return names


def test_a_second_environment_of_the_theme_compiles_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = load_config(PROJECT / "layers" / "demo.yml", None)
    (tmp_path / "docs").mkdir()
    options = mkdocs_options(config)
    names = compiles(monkeypatch)
    for _ in range(2):
        mkdocs_config = load_mkdocs_config(
            options, str(tmp_path / "docs"), str(tmp_path / "site"), "assets", config.theme
        )
        environment = mkdocs_config.theme.get_env()
        for name in ("main.html", "404.html", "sitemap.xml"):
            environment.get_template(name)
    assert names.count("main.html") == names.count("404.html") == 1  # found the second time
    assert names.count("sitemap.xml") == 1


def test_an_edited_template_is_compiled_again(tmp_path: Path) -> None:
    template = tmp_path / "page.html"
    get_env = templatecache.cached(
        lambda: jinja2.Environment(loader=jinja2.FileSystemLoader(str(tmp_path)))
    )
    template.write_text("avant {{ x }}", encoding="utf-8")
    assert get_env().get_template("page.html").render(x=1) == "avant 1"
    template.write_text("après {{ x }}", encoding="utf-8")
    assert get_env().get_template("page.html").render(x=1) == "après 1"


@pytest.mark.parametrize(
    ("setup", "expected"),
    [({"autoescape": True}, "&lt;b&gt;"), ({"finalize": lambda value: f"[{value}]"}, "[<b>]")],
)
def test_environments_set_up_differently_share_no_template(
    tmp_path: Path, setup: dict, expected: str
) -> None:
    (tmp_path / "page.html").write_text("{{ x }}", encoding="utf-8")
    loader = jinja2.FileSystemLoader(str(tmp_path))
    plain = templatecache.cached(lambda: jinja2.Environment(loader=loader))
    other = templatecache.cached(lambda: jinja2.Environment(loader=loader, **setup))
    assert plain().get_template("page.html").render(x="<b>") == "<b>"
    assert other().get_template("page.html").render(x="<b>") == expected
    assert plain().get_template("page.html").render(x="<b>") == "<b>"
