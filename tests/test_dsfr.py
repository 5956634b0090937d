"""The DSFR theme (the State's design system, opt-in): config, theme folders, the trimmed DSFR
stylesheet and its cut into first paint and late rules, the built pages, and the same browser
checks as the default theme (axe at zero violations, the map from local tiles, no request to
another host, the legend's check boxes, the search, the header's menu on a phone, the pages under
their real Content-Security-Policy), plus the paint order (nothing but the page, its first paint
stylesheet and its static map before the first frame; the DSFR's scripts on first use).

Tests that need the npm package @gouvfr/dsfr skip when it is not installed: it installs only once
its terms of use are accepted (``DSFR_ACCEPT_LICENSE=1 npm ci``, see the README)."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import tinycss2
from conftest import (
    DSFR_LINES,
    DSFR_SERVICE,
    LEGEND_READY,
    LOCAL_HOST,
    PHONE,
    SEARCH_READY,
    assert_clean,
    assert_hidden_on_the_map,
    axe_violations,
    communes,
    focused,
    layer_visibility,
    phone_page_with_a_slow_map,
    rendered,
    richest_commune,
    wait_for_map,
)

from trame import dsfr
from trame.cli import parser
from trame.config import Dsfr, load_config
from trame.errors import UserError
from trame.paths import DEFAULT_THEME_DIR, SITE_SRC, theme_dirs


def ring_shown(page: Any) -> bool:
    """The focused element shows a focus ring: on itself, or as the DSFR draws it, on its
    ::before (links that enlarge to their block) or on its label's ::before (check boxes)."""
    return page.evaluate(
        """() => {
            const el = document.activeElement;
            const drawn = (s) => s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0;
            const label = el.type === 'checkbox' ? el.nextElementSibling : null;
            return drawn(getComputedStyle(el)) || getComputedStyle(el).boxShadow !== 'none'
                || drawn(getComputedStyle(el, '::before'))
                || (label !== null && drawn(getComputedStyle(label, '::before')));
        }"""
    )


def marianne_swapped_in(page: Any, seconds: float = 10) -> bool:
    """Whether the page's text is drawn in Marianne (its regular face, from the site's files)
    within ``seconds``: the width of a text in the page's font equals that in a face loaded here
    from Marianne-Regular.woff2."""
    script = """async () => {
        const sheet = document.querySelector('link[href$="/dsfr.css"]').href;
        const url = new URL('fonts/Marianne-Regular.woff2', sheet).href;
        const reference = new FontFace('Reference', `url(${url})`);
        await reference.load();
        document.fonts.add(reference);
        const context = document.createElement('canvas').getContext('2d');
        const text = 'Continuités écologiques, commune par commune';
        context.font = '400 16px Reference';
        const expected = context.measureText(text).width;
        context.font = '400 16px ' + getComputedStyle(document.body).fontFamily;
        return Math.abs(context.measureText(text).width - expected) < 0.01;
    }"""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if page.evaluate(script):
            return True
        page.wait_for_timeout(200)
    return False


NARRATIVE_PAGES = ["communes/", "accessibilite/", "mentions-legales/", "donnees-personnelles/"]


# Config and theme folders ----------------------------------------------------------------------


def test_theme_defaults_to_the_neutral_one(territory: Path) -> None:
    config = load_config(territory)
    assert config.theme == "default"
    assert config.dsfr == Dsfr()
    assert config.dsfr.marianne == ("République", "française")


def test_theme_and_marianne_lines_come_from_the_config(territory: Path) -> None:
    text = territory.read_text(encoding="utf-8")
    territory.write_text(
        text + "theme: dsfr\ndsfr: {marianne: [Préfet, du Nord], service: DDTM du Nord}\n",
        encoding="utf-8",
    )
    config = load_config(territory)
    assert config.theme == "dsfr"
    assert config.dsfr.marianne == ("Préfet", "du Nord")
    assert config.dsfr.service == "DDTM du Nord"


@pytest.mark.parametrize(
    ("addition", "message"),
    [
        ("theme: etat\n", "à theme : il faut l'une des valeurs 'default' ou 'dsfr', pas 'etat'"),
        ("dsfr: {marianne: Préfet du Nord}\n", "à dsfr.marianne : il faut une liste"),
        ("dsfr: {marianne: [a, b, c, d, e]}\n", "à dsfr.marianne : il faut au plus 4 éléments"),
        ("dsfr: {logo: x}\n", "à dsfr.logo : clé inconnue ; clés permises ici : marianne"),
    ],
)
def test_theme_errors_name_the_key(territory: Path, addition: str, message: str) -> None:
    territory.write_text(territory.read_text(encoding="utf-8") + addition, encoding="utf-8")
    with pytest.raises(UserError, match=re.escape(message)):
        load_config(territory)


def test_one_function_maps_a_theme_to_its_folders() -> None:
    assert theme_dirs("default") == [DEFAULT_THEME_DIR]
    assert theme_dirs("dsfr") == [SITE_SRC / "theme-dsfr", DEFAULT_THEME_DIR]
    # Both themes give the same templates; the DSFR theme shares the default one's modules.
    for name in ("main.html", "commune.html", "404.html"):
        assert (SITE_SRC / "theme-dsfr" / name).is_file()
    assert not (SITE_SRC / "theme-dsfr" / "assets" / "trame").exists()
    with pytest.raises(ValueError, match="unknown theme"):
        theme_dirs("etat")


def test_the_cli_passes_the_theme() -> None:
    assert parser().parse_args(["build", "--theme", "dsfr"]).theme == "dsfr"
    assert parser().parse_args(["build"]).theme is None
    with pytest.raises(SystemExit):
        parser().parse_args(["build", "--theme", "etat"])


def test_a_missing_dsfr_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setattr(dsfr, "DSFR_DIST", tmp_path / "absent")
    with pytest.raises(UserError, match="DSFR_ACCEPT_LICENSE=1 npm ci"):
        dsfr.require_dsfr()


# The trimmed stylesheet -----------------------------------------------------------------------

SAMPLE = """/*! DSFR vX | SPDX-License-Identifier: Etalab-2.0 */
:root{--used:var(--chain);--chain:#000091;--unused:red;--also-unused:var(--chain)}
a{color:var(--used)}
.fr-btn{padding:1rem}.fr-tag{padding:2rem}
.fr-btn,.fr-tag{margin:0}
.fr-btn:not(.fr-tag){border:0}
[class^=fr-icon-]:before{content:""}[class*=" fr-btn"]{gap:0}
@media (min-width:62em){.fr-tag{color:red}.fr-btn{color:blue}}
@media (min-width:78em){.fr-tag{color:red}}
@font-face{font-family:Marianne;src:url(../fonts/Marianne-Regular.woff2) format("woff2")}
"""


def test_trimming_keeps_what_the_pages_use_and_the_licence_banner() -> None:
    css = dsfr.trim_stylesheet(SAMPLE, {"fr-btn"}, also_reads=".x{color:var(--own)}")
    assert css.startswith("/*! DSFR vX | SPDX-License-Identifier: Etalab-2.0 */")
    assert "a{color:var(--used)}" in css
    assert ".fr-btn{padding:1rem}" in css
    assert ".fr-tag" not in css.replace(":not(.fr-tag)", "")
    assert ".fr-btn{margin:0}" in css
    assert ".fr-btn:not(.fr-tag){border:0}" in css
    assert "fr-icon-" not in css and '[class*=" fr-btn"]{gap:0}' in css
    assert "@media (min-width:62em){.fr-btn{color:blue}}" in css
    assert "78em" not in css
    assert "--used:var(--chain)" in css and "--chain:#000091" in css
    assert "--unused" not in css and "--also-unused" not in css
    assert "@font-face" in css


def test_minify_keeps_every_rule_and_value() -> None:
    css = """/* a comment */
    .a  >  .b ,
    .c ~ .d + p  :not( .e ) { margin : 0 auto ; width: calc( 100% - 2rem ) !important }
    @media (min-width: 40em) {
      li:nth-child( 2n + 1 )::before { content: "x  >  y" }
    }
    @font-face { font-family: X; src: local("A"), local("B") }
    """
    assert dsfr.minify(css) == (
        ".a>.b,.c~.d+p :not(.e){margin:0 auto;width:calc(100% - 2rem)!important}"
        '@media (min-width: 40em){li:nth-child(2n+1)::before{content:"x  >  y"}}'
        '@font-face{font-family:X;src:local("A"), local("B")}'
    )


def test_the_pages_carry_the_theme_rules_minified(dsfr_site: Path) -> None:
    """main.html inlines the shared layout and the theme's rules, minified by the build: the
    same rules, in fewer bytes (the commune pages fit a slow line's first two round trips)."""
    page = (dsfr_site / "index.html").read_text(encoding="utf-8")
    inline = re.search(r'<style id="trame-styles">\s*(.*?)\s*</style>', page, re.DOTALL)
    assert inline
    folders = list(theme_dirs("dsfr"))
    sources = [
        next(f / name for f in folders if (f / name).is_file()).read_text(encoding="utf-8")
        for name in dsfr.INLINE_STYLES
    ]
    assert inline.group(1) == dsfr.minify("\n".join(sources))
    assert "/*" not in inline.group(1) and len(inline.group(1)) < 0.75 * len("".join(sources))
    full = tinycss2.parse_stylesheet("\n".join(sources), skip_comments=True, skip_whitespace=True)
    short = tinycss2.parse_stylesheet(inline.group(1), skip_whitespace=True)
    assert len(short) == len(full)


def test_trimming_drops_what_no_page_can_have() -> None:
    css = dsfr.trim_stylesheet(
        ".fr-btn{a:1}:root[data-fr-theme=dark] .fr-btn{b:2}[data-fr-mourning] .fr-btn{c:3}"
        ".fr-table[data-fr-js-table=true]{d:4}input[type=range]{e:5}input[type=checkbox]{f:6}"
        "input:not([type=range]){g:7}",
        {"fr-btn", "fr-table"},
        types={"text", "checkbox"},
    )
    assert css == ".fr-btn{a:1}input[type=checkbox]{f:6}input:not([type=range]){g:7}\n"


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("a", (0, 0, 1)),
        (".fr-btn:hover", (0, 2, 0)),
        ("a[href]:not(:disabled)::before", (0, 2, 2)),
        (".fr-logo:after", (0, 1, 1)),
        ("#x>.y+p~li", (1, 1, 2)),
        (":where(.a, #b) .c", (0, 1, 0)),
        (":is(.a, #b) p", (1, 0, 1)),
        ("li:nth-child(2n+1)", (0, 1, 1)),
    ],
)
def test_specificity(selector: str, expected: tuple[int, int, int]) -> None:
    rule = tinycss2.parse_stylesheet(selector + "{}")[0]
    assert dsfr.specificity(rule.prelude) == expected


LATE_SAMPLE = """/*! DSFR vX */
.fr-btn{color:red}
.fr-btn:hover{color:blue}
.fr-collapse--expanded{max-height:none}
@media (hover:hover){a[href]:hover{--underline:1}}
.fr-checkbox-group input{opacity:0}
.fr-link:hover{background:grey}
.fr-nav .fr-nav__link{background:white}
[data-fr-js-modal=true] .fr-x{display:block}
.fr-btn:hover,.fr-tag{margin:0}
"""


def test_late_rules_are_those_only_scripts_or_the_reader_can_match() -> None:
    first, late = dsfr.split_late(LATE_SAMPLE)
    assert first.startswith("/*! DSFR vX */") and late.startswith("/*! DSFR vX */")
    for rule in (
        ".fr-btn:hover{color:blue}", ".fr-collapse--expanded{max-height:none}",
        "@media (hover:hover){a[href]:hover{--underline:1}}", ".fr-checkbox-group input{opacity:0}",
        "[data-fr-js-modal=true] .fr-x{display:block}",
    ):  # fmt: skip
        assert rule in late and rule not in first, rule
    # A selector list with one selector of the first paint stays there.
    assert ".fr-btn:hover,.fr-tag{margin:0}" in first
    assert ".fr-btn{color:red}" in first and ".fr-nav .fr-nav__link{background:white}" in first
    # Moved after .fr-nav .fr-nav__link (same specificity, same property, may style the same element),
    # .fr-link:hover would win where it used to lose: it stays in place.
    assert ".fr-link:hover{background:grey}" in first and ".fr-link:hover" not in late


def test_the_faces_loaded_are_the_ones_the_stylesheets_use() -> None:
    fonts = "".join(
        f"@font-face{{font-family:{family};font-style:{style};font-weight:{weight};"
        f'src:url(../fonts/{name}.woff2) format("woff2"),url(../fonts/{name}.woff) format("woff")}}'
        for family, name, weight, style in (
            ("Marianne", "Marianne-Light", 300, "normal"),
            ("Marianne", "Marianne-Regular", 400, "normal"),
            ("Marianne", "Marianne-Regular_Italic", 400, "italic"),
            ("Marianne", "Marianne-Medium", 500, "normal"),
            ("Marianne", "Marianne-Medium_Italic", 500, "italic"),
            ("Marianne", "Marianne-Bold", 700, "normal"),
            ("Spectral", "Spectral-Regular", 400, "normal"),
        )
    )
    faces = dsfr.font_faces(
        fonts, ".a{font-weight:500}.b{font-weight:bold}@font-face{font-weight:300}"
    )
    assert faces == [
        {"url": "fonts/Marianne-Regular.woff2", "weight": "400", "style": "normal"},
        {"url": "fonts/Marianne-Regular_Italic.woff2", "weight": "400", "style": "italic"},
        {"url": "fonts/Marianne-Medium.woff2", "weight": "500", "style": "normal"},
        {"url": "fonts/Marianne-Bold.woff2", "weight": "700", "style": "normal"},
    ]


def test_the_theme_names_its_dsfr_classes_in_its_own_files() -> None:
    classes = dsfr.used_classes(theme_dirs("dsfr"))
    for name in ("fr-header", "fr-logo", "fr-footer", "fr-breadcrumb", "fr-search-bar"):
        assert name in classes
    # carte.mjs (shared) gives the legend the DSFR's check boxes
    assert {"fr-checkbox-group", "fr-label"} <= classes
    assert classes >= dsfr.STATE_CLASSES
    assert {"text", "checkbox", "button", "submit"} <= dsfr.used_input_types(theme_dirs("dsfr"))


# The built site -------------------------------------------------------------------------------


def html(site_dir: Path, path: str) -> str:
    return (site_dir / path / "index.html").read_text(encoding="utf-8")


def test_pages_carry_the_state_identity_from_the_config(dsfr_site: Path) -> None:
    commune, _ = richest_commune(dsfr_site)
    page = html(dsfr_site, commune["url"])
    assert 'data-trame-theme="dsfr"' in page
    assert f'<p class="fr-logo">{"<br>".join(DSFR_LINES)}</p>' in page
    assert f'<p class="fr-header__service-title">{DSFR_SERVICE}</p>' in page
    assert 'class="fr-breadcrumb"' in page and 'aria-current="page">' in page
    assert re.search(r'<div class="fr-table"><div class="fr-table__wrapper">.*?<table', page, re.S)
    assert 'class="fr-notice fr-notice--warning bandeau-fictif"' in page
    assert "Données fictives de démonstration" in page
    footer = page[page.index('<footer class="fr-footer"') :]
    for label, path in (
        ("Accessibilité : non conforme", "accessibilite/"),
        ("Mentions légales", "mentions-legales/"),
        ("Données personnelles", "donnees-personnelles/"),
    ):
        link = re.search(rf'<a class="fr-footer__bottom-link" href="([^"]+)">{label}</a>', footer)
        assert link, label
        assert (dsfr_site / path / "index.html").is_file()
        assert link.group(1).endswith(path)


def test_every_resource_is_on_the_site_itself(dsfr_site: Path) -> None:
    """Scripts, styles, fonts and icons: same-origin files; only plain links (the footer's
    mandatory gouv.fr links) point at other hosts."""
    for page in sorted(dsfr_site.rglob("*.html")):
        text = page.read_text(encoding="utf-8")
        for tag in re.findall(r"<(?:script|link|img|source)\b[^>]*>", text):
            assert not re.search(r"""(?:src|href)=["']?(?:https?:)?//""", tag), (page, tag)
        policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', text)
        assert policy and "script-src 'self'" in policy.group(1), page
    (assets,) = (dsfr_site / "assets").iterdir()  # assets/<hash of its files>/
    target = assets / "dsfr"
    first = (target / dsfr.FIRST_CSS).read_text(encoding="utf-8")
    late = (target / dsfr.LATE_CSS).read_text(encoding="utf-8")
    fonts = (target / dsfr.FONTS_CSS).read_text(encoding="utf-8")
    assert "@font-face" not in first + late and fonts.count("@font-face") >= 4
    # The first paint's rules point at no file: their icons are data: URLs.
    assert re.findall(r"url\(([^)]+)\)", first)
    assert all(u.strip("\"'").startswith("data:") for u in re.findall(r"url\(([^)]+)\)", first))
    urls = re.findall(r"url\(([^)]+)\)", late + fonts)
    files = [u.strip("\"'") for u in urls if not u.strip("\"'").startswith("data:")]
    assert any(f.endswith("Marianne-Regular.woff2") for f in files)
    for name in files:
        assert not re.match(r"(?:https?:)?//", name), name
        assert (target / name).is_file(), name
    for css in (first, late):
        assert css.startswith("/*!\n * DSFR v")  # the DSFR's licence banner is kept
    assert len(first.encode()) < 70_000, "the first paint's stylesheet stays small"
    assert "data-fr-theme" not in first + late, "no dark scheme: the theme never opts in"
    for late_only in (".fr-collapse--expanded{", "input[type=checkbox]:checked~label:before"):
        assert late_only in late and late_only not in first, late_only
    assert ":hover" in late and ":focus-visible" in late
    faces = re.findall(r'url: "([^"]+)"', (target / dsfr.FONTS_MODULE).read_text(encoding="utf-8"))
    assert "fonts/Marianne-Regular.woff2" in faces and "fonts/Marianne-Bold.woff2" in faces
    assert all((target / face).is_file() for face in faces)
    for name in dsfr.SCRIPTS:
        assert (target / f"{name}.module.min.js").is_file()


def test_the_default_theme_stays_neutral(demo_site: Path) -> None:
    for page in sorted(demo_site.rglob("*.html")):
        text = page.read_text(encoding="utf-8")
        assert 'class="fr-' not in text and "data-trame-theme" not in text, page
    assert list((demo_site / "assets").glob("*/trame"))  # assets/<hash>/: the theme's files
    assert not list((demo_site / "assets").glob("*/dsfr"))
    assert (demo_site / "mentions-legales" / "index.html").is_file()


def test_theme_is_part_of_the_build_key(territory: Path) -> None:
    from trame.cache import site_key

    config = load_config(territory)
    dsfr = config.model_copy(update={"theme": "dsfr"})
    assert site_key(config, pdf=False) != site_key(dsfr, pdf=False)


# In Chromium ----------------------------------------------------------------------------------


@pytest.mark.browser
def test_axe_home_and_commune_pages(visit: Any, dsfr_site: Path, dsfr_base_url: str) -> None:
    record = visit("", base=dsfr_base_url)
    wait_for_map(record)
    assert axe_violations(record.page) == []
    assert_clean(record)

    commune, _ = richest_commune(dsfr_site)
    record = visit(commune["url"], base=dsfr_base_url)
    wait_for_map(record)
    page = record.page
    page.locator("table.trame-elements tbody th button").first.click()
    page.locator(".maplibregl-popup").wait_for()
    page.locator(".trame-legende label.fr-label").nth(1).click()  # hide an item
    assert page.locator(".trame-legende input[type=checkbox]").nth(1).is_checked() is False
    assert axe_violations(page) == []
    assert_clean(record)


@pytest.mark.browser
def test_axe_phone_search_and_narrative_pages(
    visit: Any, dsfr_site: Path, dsfr_base_url: str
) -> None:
    commune, _ = richest_commune(dsfr_site)
    record = visit(commune["url"], base=dsfr_base_url, **PHONE)
    record.page.wait_for_selector(LEGEND_READY)
    assert axe_violations(record.page) == []
    assert_clean(record)

    record = visit(commune["url"], base=dsfr_base_url)
    page = record.page
    page.wait_for_selector(SEARCH_READY, state="attached")
    page.locator("#recherche-commune").fill("sa")
    page.locator("#recherche-resultats [role=option]").first.wait_for()
    page.keyboard.press("ArrowDown")
    assert axe_violations(page) == []
    assert_clean(record)

    problems = {}
    for path in NARRATIVE_PAGES:
        record = visit(path, base=dsfr_base_url)
        violations = axe_violations(record.page)
        if violations:
            problems[path] = violations
        assert_clean(record)
    assert problems == {}


@pytest.mark.browser
def test_map_legend_check_boxes_and_keyboard(
    visit: Any, dsfr_site: Path, dsfr_base_url: str
) -> None:
    commune, items = richest_commune(dsfr_site)
    record = visit(commune["url"], base=dsfr_base_url)
    wait_for_map(record)
    page = record.page
    features = rendered(page)
    assert {f["item"] for f in features if f["item"]} >= items
    tiles = [u for u in record.requests if urlsplit(u).path.endswith(".pbf")]
    assert tiles and all(urlsplit(u).hostname == LOCAL_HOST for u in tiles)

    # The legend's check boxes are the DSFR's: an input, then its label, in a checkbox group.
    item = sorted(items)[0]
    group = page.locator(f".trame-legende li[data-item='{item}']")
    assert "fr-checkbox-group" in (group.get_attribute("class") or "")
    box = group.locator("input[type=checkbox]")
    assert group.locator(f"label.fr-label[for='{box.get_attribute('id')}']").count() == 1
    box.focus()
    page.keyboard.press("Space")
    assert not box.is_checked()
    assert_hidden_on_the_map(page, item)
    page.locator(f"label[for='{box.get_attribute('id')}']").click()  # the mouse, on the label
    assert box.is_checked()
    assert layer_visibility(page, item) == {"visible"}

    # Keyboard walk: the skip links first, every stop with a visible focus, down to the legend.
    assert_clean(record)
    record = visit(commune["url"], base=dsfr_base_url)
    wait_for_map(record)
    page = record.page
    page.keyboard.press("Tab")
    assert focused(page)["text"] == "Aller au contenu"
    boxes = 0
    for _ in range(60):
        page.keyboard.press("Tab")
        stop = focused(page)
        assert ring_shown(page), stop
        boxes += stop["type"] == "checkbox"
        if boxes == 2:
            break
    else:
        pytest.fail("the legend's check boxes were not reached with Tab")
    assert_clean(record)


@pytest.mark.browser
def test_phone_header_opens_the_menu_and_the_search(
    visit: Any, dsfr_site: Path, dsfr_base_url: str
) -> None:
    commune = communes(dsfr_site)[0]
    record = visit(commune["url"], base=dsfr_base_url, **PHONE)
    page = record.page
    page.wait_for_selector(SEARCH_READY, state="attached")
    nav = page.get_by_role("navigation", name="Menu principal")
    assert not nav.is_visible()
    # The DSFR's scripts come with the first press of one of their controls, which they then
    # handle (the press is replayed once they are ready).
    assert not any(u.endswith("/core.module.min.js") for u in record.requests)
    page.get_by_role("button", name="Menu").click()
    nav.get_by_role("link", name="Accessibilité").wait_for()
    assert page.locator("html[data-fr-js]").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Rechercher une commune").click()
    field = page.locator("#recherche-commune")
    field.wait_for()
    other = communes(dsfr_site)[1]
    field.fill(other["nom"][:5])
    page.locator("#recherche-resultats [role=option]").first.wait_for()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/{other['url']}")
    assert_clean(record)


@pytest.mark.browser
def test_pages_work_under_their_own_content_security_policy(
    chromium: Any, dsfr_site: Path, dsfr_base_url: str
) -> None:
    """Without bypass_csp: the DSFR's scripts, styles and fonts load as same-origin files, and
    the browser reports no CSP violation."""
    commune, _ = richest_commune(dsfr_site)
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        messages: list[str] = []
        requests: list[str] = []
        page.on("console", lambda m: messages.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: messages.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(dsfr_base_url + commune["url"])
        page.wait_for_selector(".trame-carte[data-etat=prete]", state="attached", timeout=20_000)
        # The DSFR's scripts start when the reader points at one of their controls.
        page.dispatch_event(".fr-breadcrumb__button", "pointerover")
        page.wait_for_selector("html[data-fr-js]", state="attached")
        page.wait_for_selector(".fr-breadcrumb [data-fr-js-collapse]", state="attached")
        # The Marianne files come after the first paint, from the site (polices.mjs).
        page.wait_for_selector("link[href$='dsfr-suite.css']", state="attached")
        assert marianne_swapped_in(page)
        assert messages == []
        assert all(urlsplit(u).hostname == LOCAL_HOST for u in requests if "://" in u[:8])
        assert any(u.endswith("/dsfr/core.module.min.js") for u in requests)
    finally:
        context.close()


@pytest.mark.browser
def test_nothing_but_the_page_and_its_first_stylesheet_hold_back_the_first_paint(
    visit: Any, dsfr_site: Path, dsfr_base_url: str
) -> None:
    """Before the first contentful paint a page asks only for its first paint stylesheet and its
    static map (no script, no font, no print stylesheet, no icon); the DSFR's late rules, the
    print stylesheets, the search, the map and Marianne come after it, swapped in at once (no
    layout shift to speak of), and the DSFR's scripts only when the reader uses one of their
    controls."""
    commune, _ = richest_commune(dsfr_site)
    record = visit(commune["url"], base=dsfr_base_url, **PHONE)
    page = record.page
    page.wait_for_selector(LEGEND_READY)
    assert marianne_swapped_in(page)
    requests = page.evaluate(
        """() => {
            const paint = performance.getEntriesByName('first-contentful-paint')[0].startTime;
            return performance.getEntriesByType('resource')
                .map((e) => [new URL(e.name).pathname.split('/').pop(), e.startTime < paint]);
        }"""
    )
    before = {name for name, early in requests if early}
    assert before <= {"dsfr.css", "carte.svg"}, before
    after = {name for name, early in requests if not early}
    assert {"dsfr-suite.css", "recherche.mjs", "carte.mjs", "Marianne-Regular.woff2"} <= after
    assert {"favicon.svg", "dsfr.print.css", "impression.css"} <= after
    assert page.evaluate("document.querySelector('link[rel=icon]').href").endswith("favicon.svg")
    assert not [name for name, _ in requests if name.endswith(".module.min.js")]
    # The late rules come before the theme's own (the cascade's order of one stylesheet).
    order = "document.querySelector('link[href$=\"dsfr-suite.css\"]').nextElementSibling.id"
    assert page.evaluate(order) == "trame-styles"
    shifts = page.evaluate(
        """() => new Promise((done) => {
            let sum = 0;
            new PerformanceObserver((list) => {
                for (const entry of list.getEntries()) sum += entry.value;
            }).observe({type: 'layout-shift', buffered: true});
            setTimeout(() => done(sum), 100);
        })"""
    )
    assert shifts < 0.02, "Marianne's fallback has its metrics: the swap barely moves the text"
    assert_clean(record)


@pytest.mark.browser
def test_nothing_is_fetched_after_the_page_before_its_static_map_is_on_screen(
    chromium: Any, dsfr_base_url: str
) -> None:
    """The home page on a phone (Lighthouse's, 412 × 823): the static map, the largest thing on
    screen, paints before the late rules, the scripts, the fonts and the favicon are asked for,
    so that on a slow line they never delay it. Its file comes late here (held 1.5 s), as when
    a slow machine paints it long after the text: the page's load event is no sign of it."""
    context = chromium.new_context(viewport={"width": 412, "height": 823})
    try:
        page, errors = phone_page_with_a_slow_map(context)
        page.goto(dsfr_base_url)
        page.wait_for_selector("link[href$='dsfr-suite.css']", state="attached")
        # The late files are asked for after the map's paint; on a loaded machine that can
        # come more than networkidle's 500 quiet ms later: wait for them by name.
        page.wait_for_function(
            """(names) => names.every((name) => performance.getEntriesByType('resource')
                .some((e) => e.name.endsWith('/' + name)))""",
            arg=["recherche.mjs", "Marianne-Regular.woff2", "favicon.svg"],
            timeout=20_000,
        )
        page.wait_for_load_state("networkidle")
        painted = page.evaluate(
            """() => new Promise((done) => {
                new PerformanceObserver((list) => {
                    const map = list.getEntries().find((e) => e.identifier === 'carte-statique');
                    if (map) done(map.renderTime);
                }).observe({type: 'element', buffered: true});
            })"""
        )
        requests = page.evaluate(
            """() => performance.getEntriesByType('resource')
                .map((e) => [new URL(e.name).pathname.split('/').pop(), e.startTime])"""
        )
    finally:
        context.close()
    late = {name: start for name, start in requests if name not in ("dsfr.css", "carte.svg")}
    expected = {"dsfr-suite.css", "recherche.mjs", "Marianne-Regular.woff2", "favicon.svg"}
    assert expected | {"dsfr.print.css", "impression.css"} <= set(late)
    assert painted > 1500
    assert {name: start for name, start in late.items() if start < painted} == {}, painted
    assert errors == []


@pytest.mark.browser
def test_the_text_paints_without_waiting_for_the_static_map(visit: Any, dsfr_base_url: str) -> None:
    """The static map is left out of the first frame (its SVG is slow to rasterise on a slow
    device): it paints after the first contentful paint, in its place kept from the start."""
    record = visit("", base=dsfr_base_url, width=412, height=823)
    page = record.page
    page.wait_for_selector("link[href$='dsfr-suite.css']", state="attached")
    first, painted = page.evaluate(
        """() => new Promise((done) => {
            new PerformanceObserver((list) => {
                const map = list.getEntries().find((e) => e.identifier === 'carte-statique');
                const paint = performance.getEntriesByName('first-contentful-paint')[0];
                if (map) done([paint.startTime, map.renderTime]);
            }).observe({type: 'element', buffered: true});
        })"""
    )
    assert 0 < first < painted
    assert page.evaluate("document.documentElement.dataset.avantPeinture") is None
    # Hidden from the start: set by a script ahead of every stylesheet (one after a stylesheet
    # would wait for it), and hidden by the page's own rules.
    head = page.evaluate("document.head.innerHTML")
    assert head.index("dataset.avantPeinture = ''") < head.index('<link rel="stylesheet"')
    assert "[data-avant-peinture] .trame-carte-statique img" in head
    assert page.locator(".trame-carte-statique img").is_visible()
    assert_clean(record)


@pytest.mark.browser
def test_print_uses_the_dsfr_print_styles(visit: Any, dsfr_site: Path, dsfr_base_url: str) -> None:
    commune, _ = richest_commune(dsfr_site)
    record = visit(commune["url"], base=dsfr_base_url)
    page = record.page
    # Linked with the late rules, once the first frame is on screen.
    for sheet in ("dsfr.print.css", "impression.css"):
        page.wait_for_selector(f"link[href$='{sheet}'][media=print]", state="attached")
    page.wait_for_load_state("networkidle")
    page.emulate_media(media="print")
    assert page.locator("figure.trame-carte-statique img").is_visible()
    assert page.locator(".fr-logo").first.is_visible()
    for selector in (".trame-carte", ".fr-header__tools", ".fr-breadcrumb", ".fr-skiplinks"):
        assert not page.locator(selector).first.is_visible(), selector
    assert page.locator(".trame-adresse").is_visible()
    assert_clean(record)


@pytest.mark.browser
def test_without_javascript_the_menu_search_link_and_map_remain(
    visit: Any, dsfr_site: Path, dsfr_base_url: str
) -> None:
    commune, _ = richest_commune(dsfr_site)
    record = visit(commune["url"], base=dsfr_base_url, javascript=False, **PHONE)
    page = record.page
    nav = page.get_by_role("navigation", name="Menu principal")
    assert nav.get_by_role("link", name="Accessibilité").is_visible()
    assert page.get_by_role("link", name="Trouver une commune dans la liste").is_visible()
    assert page.locator("figure.trame-carte-statique img").is_visible()
    assert page.locator(".trame-legende li").first.is_visible()
    assert page.locator(".fr-breadcrumb__list").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    for sheet in ("dsfr.print.css", "impression.css"):  # linked by a script otherwise
        assert page.locator(f"link[href$='{sheet}'][media=print]").count() == 1, sheet
    assert_clean(record)
