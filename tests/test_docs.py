"""Readable documentation: the site for the fixture and every shipped ruleset, checked as HTML, as Markdown and in a browser."""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest

import invictus_rules
from invictus_rules.errors import InvictusError
from invictus_rules.load import list_countries, list_versions
from invictus_rules.labels import LABELS, labels
from invictus_rules.tools.docs import TEMPLATES, build_site, markdown_cell, markdown_code, resolve_rulesets

from .conftest import FIXTURES, ROOT

MINI = FIXTURES / "mini.yaml"
SHIPPED = sorted(ROOT.glob("rulesets/*/*.yaml"))


class PageReader(HTMLParser):
    """What an HTML page is made of: headings, tables, ids, links and anything that would load from elsewhere."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lang = ""
        self.headings: list[int] = []
        self.tables: list[dict[str, int]] = []
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.external: list[str] = []
        self.tags: set[str] = set()
        self.style = ""
        self._in_style = False
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.tags.add(tag)
        if tag == "html":
            self.lang = values.get("lang") or ""
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self.headings.append(int(tag[1]))
        if tag == "table":
            self.tables.append({"th": 0, "th_without_scope": 0})
        if tag == "th" and self.tables:
            self.tables[-1]["th"] += 1
            self.tables[-1]["th_without_scope"] += "scope" not in values
        if "id" in values:
            self.ids.add(values["id"] or "")
        if tag == "a" and values.get("href"):
            self.links.append(values["href"] or "")
        for name, value in attrs:
            if value and value.strip().lower().startswith(("http:", "https:", "//")) and not (tag == "a" and name == "href"):
                self.external.append(f"<{tag} {name}={value}>")
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.style += data
        else:
            self.text.append(data)


def read_page(path: Path) -> PageReader:
    reader = PageReader()
    reader.feed(path.read_text(encoding="utf-8"))
    return reader


def assert_accessible_and_self_contained(path: Path) -> PageReader:
    """The checks every page must pass; returns what was read for more specific checks."""
    page = read_page(path)
    assert page.lang, "the <html> element has no lang"
    assert page.headings.count(1) == 1 and page.headings[0] == 1, page.headings
    for before, after in zip(page.headings, page.headings[1:]):
        assert after <= before + 1, f"heading h{after} follows h{before}"
    assert page.tables and all(t["th"] > 0 and t["th_without_scope"] == 0 for t in page.tables), page.tables
    assert "script" not in page.tags and "iframe" not in page.tags and "img" not in page.tags
    assert not page.external, page.external
    assert "url(" not in page.style and "@import" not in page.style
    for href in page.links:
        if href.startswith("#"):
            assert href[1:] in page.ids, f"no element with id {href[1:]}"
        elif not href.startswith(("http://", "https://", "tel:", "mailto:")):
            assert (path.parent / href.split("#")[0]).is_file(), f"broken link {href} in {path}"
    assert page.links[0] != "#content" or "content" in page.ids
    return page


@pytest.fixture(scope="module")
def mini_site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    out = tmp_path_factory.mktemp("site")
    return out, build_site([MINI], out)


def test_site_files(mini_site):
    """A ruleset gets an HTML page and a Markdown file per language, and the site an index of both kinds."""
    out, written = mini_site
    expected = {"index.html", "index.md", "xx/2026.1/en.html", "xx/2026.1/en.md", "xx/2026.1/nl.html", "xx/2026.1/nl.md"}
    assert {str(p.relative_to(out)) for p in written} == expected
    assert not list(out.rglob("*.tmp")), "temporary files left behind"


def test_html_pages_are_accessible_and_self_contained(mini_site):
    """Every page: lang set, one h1, headings in order, tables with scoped th, no scripts or outside resources, no broken links."""
    out, written = mini_site
    for path in written:
        if path.suffix == ".html":
            assert_accessible_and_self_contained(path)
    html = (out / "xx/2026.1/en.html").read_text(encoding="utf-8")
    assert '<a class="skip" href="#content">Skip to content</a>' in html
    assert "@media print" in html


def test_page_content(mini_site):
    """The page holds metadata, the questionnaire with its conditions in words, scores, referrals, information, services and changelog."""
    out, _ = mini_site
    html = (out / "xx/2026.1/en.html").read_text(encoding="utf-8")
    text = " ".join(" ".join(read_page(out / "xx/2026.1/en.html").text).split())
    for heading in ("About this ruleset", "Questionnaire", "Scores", "Referrals", "Information for victims", "Services directory", "Changelog"):
        assert f">{heading}</h2>" in html
    ruleset = invictus_rules.load_ruleset(MINI)
    assert ruleset.sha256 in text and "draft (not in force)" in text and "from 2026-01-01, until replaced" in text
    assert "Asked only if the answer to “What happened?” is “Domestic violence”" in text
    assert "Strangulation strangulation the answer to “Has the person ever strangled you?” is yes" in text
    assert "the score of “Domestic violence risk” is at least 6 or the number of critical indicators present in “Domestic violence risk” is at least 1" in text
    assert "The answer to “Professional judgement” can raise the level, never lower it." in text
    assert "opt-out: the referral is made unless the victim objects" in text
    assert "Everyone can get support: call 116 006." in text
    assert "You can get support from Victim helpline." in text
    assert "Directive 2012/29/EU Art. 22(4)" in text
    assert "Victim helpline general victim support 116 006 not stated not stated not stated not stated" in text
    assert "Version 2026.1, 2025-12-01 First version." in text


def test_page_in_the_rulesets_other_language(mini_site):
    """The Dutch page has Dutch headings, Dutch texts and Dutch prose."""
    out, _ = mini_site
    page = read_page(out / "xx/2026.1/nl.html")
    text = " ".join(" ".join(page.text).split())
    assert page.lang == "nl"
    assert "Vragenlijst" in text and "Doorverwijzingen" in text and "Overzicht van organisaties" in text
    assert "Alleen gevraagd als het antwoord op “Wat is er gebeurd?” is “Huiselijk geweld”" in text
    assert "Iedereen kan steun krijgen: bel 116 006." in text


def test_markdown(mini_site):
    """The Markdown file carries the same content, with tables and code for rules as written."""
    out, _ = mini_site
    markdown = (out / "xx/2026.1/en.md").read_text(encoding="utf-8")
    assert markdown.startswith("# Mini ruleset\n")
    assert "## Questionnaire" in markdown and "### Domestic violence risk" in markdown
    assert "| Strangulation (`strangulation`) | the answer to “Has the person ever strangled you?” is yes (`strangulation`) | 5 | yes |" in markdown
    assert '- Rule as written: `crime_type == "domestic_violence"`' in markdown
    index = (out / "index.md").read_text(encoding="utf-8")
    assert "[English](xx/2026.1/en.md)" in index and "[Nederlands](xx/2026.1/nl.md)" in index


def test_markdown_escaping():
    """Ruleset texts cannot break Markdown tables or inline code."""
    assert markdown_cell("a | b\n*c*") == "a \\| b \\*c\\*"
    assert markdown_code("x`y") == "`` x`y ``"


def variant(tmp_path: Path, old: str, new: str) -> Path:
    text = MINI.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "variant.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_texts_needing_answers_are_shown_as_written(tmp_path):
    """A text that cannot render without a victim's answers shows its template source instead of failing."""
    path = variant(tmp_path, "reason: {en: The risk is high.,", 'reason: {en: "You are {{ answers.age }} years old.",')
    build_site([path], tmp_path / "out")
    html = (tmp_path / "out/xx/2026.1/en.html").read_text(encoding="utf-8")
    assert "it is shown as written:</p>\n<pre><code>You are {{ answers.age }} years old.</code></pre>" in html
    markdown = (tmp_path / "out/xx/2026.1/en.md").read_text(encoding="utf-8")
    assert "```\nYou are {{ answers.age }} years old.\n```" in markdown


def test_ruleset_texts_cannot_inject_html(tmp_path):
    """Markup in a ruleset text is shown as text, never interpreted by the browser."""
    path = variant(tmp_path, "text: {en: How old are you?", 'text: {en: "How <script>old</script> are you?"')
    build_site([path], tmp_path / "out")
    html = (tmp_path / "out/xx/2026.1/en.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;old&lt;/script&gt;" in html and "<script>" not in html


def test_a_file_named_twice_is_documented_once(tmp_path):
    """Naming a country and one of its versions (or a file twice) documents each file once."""
    assert len(build_site([MINI, MINI], tmp_path)) == 6


def test_builds_are_deterministic(tmp_path):
    """The same rulesets give byte-identical files."""
    first = {p.relative_to(tmp_path / "a"): p.read_bytes() for p in build_site([MINI], tmp_path / "a")}
    second = {p.relative_to(tmp_path / "b"): p.read_bytes() for p in build_site([MINI], tmp_path / "b")}
    assert first == second


def test_invalid_or_duplicate_rulesets_stop_the_build(tmp_path):
    """An invalid ruleset, or two files with the same country and version, raise before anything is written."""
    broken = variant(tmp_path, "when: age < 18", "when: ag < 18")
    with pytest.raises(InvictusError) as error:
        build_site([broken], tmp_path / "out")
    assert error.value.problems[0].code == "unknown-question"
    copy = tmp_path / "copy.yaml"
    copy.write_text(MINI.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(InvictusError) as error:
        build_site([MINI, copy], tmp_path / "out")
    assert error.value.problems[0].code == "duplicate-version"
    assert not (tmp_path / "out").exists()


def test_labels_are_complete():
    """Every page language has every label, with the same placeholders as English."""
    english = LABELS["en"]
    for language in ("nl", "bg", "hr", "fi", "sv", "fr", "it", "pt"):
        table = LABELS[language]
        assert set(table) == set(english), set(english) ^ set(table)
        for key, text in table.items():
            for placeholder in (
                "{start}", "{end}", "{min}", "{max}", "{n}", "{score}", "{question}", "{version}", "{date}", "{engine}", "{file}",
                "{ruleset}", "{country}", "{sha}", "{language}", "{low}", "{high}", "{points}", "{critical}", "{questions}", "{channels}", "{label}", "{text}",
            ):
                assert (placeholder in text) == (placeholder in english[key]), (language, key)
    assert labels("de")["questionnaire"] == "Questionnaire"


def test_templates_ship_inside_the_package():
    """The page templates live inside the package folder, so the wheel (packages = src/invictus_rules) carries them."""
    package = Path(invictus_rules.__file__).resolve().parent
    assert package in TEMPLATES.parents
    assert {p.name for p in TEMPLATES.iterdir()} >= {"page.html", "page.md", "index.html", "index.md", "macros.html", "style.css"}


def test_resolve_references():
    """No reference means every version of every shipped country; a country means all its versions; cc@version one file."""
    every = resolve_rulesets([])
    assert every == [info.path for country in list_countries() for info in list_versions(country)]
    assert resolve_rulesets(["nl"]) == [info.path for info in list_versions("nl")]
    nl = list_versions("nl")[-1]
    assert resolve_rulesets([f"nl@{nl.version}"]) == [nl.path]
    assert resolve_rulesets([str(MINI)]) == [MINI]


def test_cli(cli, tmp_path):
    """invictus-rules docs writes the site and says where; an unknown country is an error with exit code 1."""
    result = cli("docs", str(MINI), "--out", str(tmp_path / "site"))
    assert result.code == 0, result.err
    assert (tmp_path / "site/index.html").is_file() and "index.html" in result.out
    result = cli("docs", "zz", "--out", str(tmp_path / "other"))
    assert result.code == 1 and "unknown-country" in result.err
    assert cli("docs", str(MINI)).code == 2


# -- every shipped ruleset, whatever exists when the tests run ----------------------------------


@pytest.mark.parametrize("path", SHIPPED, ids=[f"{p.parent.name}@{p.stem}" for p in SHIPPED])
def test_shipped_ruleset_site(path, tmp_path):
    """Each shipped ruleset documents cleanly in each of its languages, with headings in that language."""
    written = build_site([path], tmp_path)
    ruleset = invictus_rules.load_ruleset(path)
    pages = [p for p in written if p.suffix == ".html" and p.name != "index.html"]
    assert sorted(p.stem for p in pages) == sorted(ruleset.languages)
    for page_path in pages:
        page = assert_accessible_and_self_contained(page_path)
        words = labels(page_path.stem)
        text = " ".join(page.text)
        assert page.lang == page_path.stem
        for key in ("questionnaire", "referrals", "services", "changelog"):
            assert words[key] in text, (page_path.stem, key)
        markdown = page_path.with_suffix(".md").read_text(encoding="utf-8")
        assert f"## {words['questionnaire']}" in markdown
    assert_accessible_and_self_contained(tmp_path / "index.html")


def test_whole_shipped_site_index(tmp_path, cli):
    """Without arguments, docs documents every version of every shipped country and the index links them all."""
    assert cli("docs", "--out", str(tmp_path)).code == 0
    index = read_page(tmp_path / "index.html")
    pages = {str(p.relative_to(tmp_path)) for p in tmp_path.glob("*/*/*.html")}
    assert pages and pages <= set(index.links)
    assert {tuple(p.split("/")[:2]) for p in pages} == {(c, v.version) for c in list_countries() for v in list_versions(c)}
    assert_accessible_and_self_contained(tmp_path / "index.html")


# -- in a real browser ----------------------------------------------------------------------------

CHROMIUM = next((found for name in ("chromium", "chromium-browser", "google-chrome") if (found := shutil.which(name))), None)
BROWSER_TIMEOUT = 20


def chromium(*args: str, profile: Path) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    command = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}", *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=BROWSER_TIMEOUT, check=False)


def png_pixels(path: Path) -> tuple[int, int, bytes]:
    """Width, height and the decompressed scanlines of a PNG file (no imaging library needed)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    width, height = struct.unpack(">II", data[16:24])
    chunks, position = [], 8
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        if kind == b"IDAT":
            chunks.append(data[position + 8 : position + 8 + length])
        position += 12 + length
    return width, height, zlib.decompress(b"".join(chunks))


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium found (install the Debian package 'chromium' to run the browser test)")
def test_pages_render_in_a_browser(mini_site, tmp_path):
    """Headless Chromium renders a page: the sections are in its DOM and the screenshot shows real content."""
    out, _ = mini_site
    url = (out / "xx/2026.1/en.html").as_uri()
    dom = chromium("--dump-dom", url, profile=tmp_path / "profile-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    for section in ("about", "questionnaire", "scores", "referrals", "information", "services", "changelog"):
        assert f'id="{section}"' in dom.stdout
    assert "<h1>Mini ruleset</h1>" in dom.stdout and "Everyone can get support: call 116 006." in dom.stdout

    screenshot = tmp_path / "page.png"
    shot = chromium(f"--screenshot={screenshot}", "--window-size=1200,2000", url, profile=tmp_path / "profile-shot")
    assert shot.returncode == 0 and screenshot.is_file(), shot.stderr[-2000:]
    width, height, pixels = png_pixels(screenshot)
    assert (width, height) == (1200, 2000)
    assert screenshot.stat().st_size > 10_000 and len(set(pixels[: width * 4 * 400])) > 20, "the screenshot looks blank"


def test_every_text_variant_is_shown_with_its_condition(tmp_path):
    """A text with branches on the answers shows what every victim reads and each variant after 'If ...:' in words."""
    reason = (
        'reason: {en: "The risk is high.{%- if answers.strangulation | default(false) is true %} Strangulation can injure you unseen.'
        '{%- elif answers.age is defined and answers.age < 18 %} Call {{ services.helpline.phone }} with a parent.{%- else %} Ask about shelter.{%- endif %} We call you today.",'
    )
    path = variant(tmp_path, "reason: {en: The risk is high.,", reason)
    build_site([path], tmp_path / "out")
    html = (tmp_path / "out/xx/2026.1/en.html").read_text(encoding="utf-8")
    assert "<p>The risk is high.</p>" in html and "<p>We call you today.</p>" in html
    assert '<p class="variant"><span class="when">If the answer to “Has the person ever strangled you?” is yes:</span> Strangulation can injure you unseen.</p>' in html
    assert (
        '<p class="variant"><span class="when">Otherwise, if “How old are you?” was answered and the answer to “How old are you?” is less than 18:</span> '
        "Call 116 006 with a parent.</p>"
    ) in html
    assert '<p class="variant"><span class="when">Otherwise:</span> Ask about shelter.</p>' in html
    markdown = (tmp_path / "out/xx/2026.1/en.md").read_text(encoding="utf-8")
    assert "> *If the answer to “Has the person ever strangled you?” is yes:* Strangulation can injure you unseen." in markdown
    dutch = " ".join(" ".join(read_page(tmp_path / "out/xx/2026.1/nl.html").text).split())
    assert "Het risico is hoog." in dutch  # the Dutch text has no branches and is shown whole


def test_nl_docs_show_the_huisverbod_sentences_a_victim_receives(tmp_path):
    """The Dutch page of nl 2026.2 shows the 10/28-day huisverbod sentence under its condition in Dutch words."""
    build_site([ROOT / "rulesets/nl/2026.2.yaml"], tmp_path / "out")
    text = " ".join(" ".join(read_page(tmp_path / "out/nl/2026.2/nl.html").text).split())
    assert (
        "Als het antwoord op “Woont u samen met de pleger?” is ja: Omdat u met de pleger samenwoont, kan ook een tijdelijk huisverbod "
        "worden opgelegd: de pleger mag dan 10 dagen niet thuiskomen, met verlenging tot 28 dagen."
    ) in text
    markdown = (tmp_path / "out/nl/2026.2/nl.md").read_text(encoding="utf-8")
    assert "> *Als het antwoord op “Woont u samen met de pleger?” is ja:* Omdat u met de pleger samenwoont" in markdown
    assert "Anders:" in text


def test_split_branches_follows_whitespace_control_and_refuses_loops():
    """Pieces keep the text between tags, {%- and -%} strip as jinja2 does, and a loop is not split."""
    from invictus_rules.tools.variants import split_branches

    pieces = split_branches("A. {%- if answers.x is true -%}  B. {% else %}C.{% endif %} D.")
    assert pieces is not None
    assert [(p.source, [b.test for b in p.branches]) for p in pieces] == [("A.", []), ("B. ", ["answers.x is true"]), ("C.", [""]), (" D.", [])]
    assert split_branches("{% for x in [1] %}{{ x }}{% endfor %}") is None
    assert split_branches("{% if a %}unclosed") is None


def test_draft_banner_only_on_drafts(tmp_path):
    """A draft's pages open with a banner saying it is not in force; a published version's do not."""
    build_site([MINI], tmp_path / "draft")
    html = (tmp_path / "draft/xx/2026.1/en.html").read_text(encoding="utf-8")
    assert '<h1>Mini ruleset</h1>\n<p class="draft-banner" role="note"><strong>Draft: this version is not in force' in html
    assert (tmp_path / "draft/xx/2026.1/nl.md").read_text(encoding="utf-8").startswith("# Mini-regelset\n\n> **Concept: deze versie is niet van kracht")
    published = variant(tmp_path, "status: draft", "status: published")
    build_site([published], tmp_path / "published")
    assert 'class="draft-banner"' not in (tmp_path / "published/xx/2026.1/en.html").read_text(encoding="utf-8")
    assert "Draft:" not in (tmp_path / "published/xx/2026.1/en.md").read_text(encoding="utf-8")


def test_basis_legal_basis_and_changelog_per_language(tmp_path):
    """basis, legal basis and changelog lines may be texts per language; a line shown in another language says so."""
    path = variant(
        tmp_path,
        "      changes: [First version.]",
        "      changes: [{en: First version., nl: Eerste versie.}, Only in English.]\n  legal_basis: [{en: Victims' Rights Directive, nl: Richtlijn slachtofferrechten}]",
    )
    text = path.read_text(encoding="utf-8").replace("    items:\n", "    basis: {en: Paraphrased checklist themes., nl: Thema's uit checklists in eigen woorden.}\n    items:\n", 1)
    path.write_text(text, encoding="utf-8")
    build_site([path], tmp_path / "out")
    dutch = " ".join(" ".join(read_page(tmp_path / "out/xx/2026.1/nl.html").text).split())
    assert "Eerste versie." in dutch and "Only in English. (niet vertaald; tekst in: English)" in dutch
    assert "Richtlijn slachtofferrechten" in dutch and "Thema's uit checklists in eigen woorden." in dutch
    english = " ".join(" ".join(read_page(tmp_path / "out/xx/2026.1/en.html").text).split())
    assert "First version." in english and "Only in English." in english and "not translated" not in english
    assert "Victims' Rights Directive" in english and "Paraphrased checklist themes." in english


def test_rule_as_written_keeps_the_authors_parentheses(tmp_path):
    """'Rule as written' is the condition as its author wrote it, with the parentheses a reader needs."""
    path = variant(tmp_path, 'when: level(dv_risk) == "high"', 'when: level(dv_risk) == "high" or (age < 18 and strangulation)')
    build_site([path], tmp_path / "out")
    markdown = (tmp_path / "out/xx/2026.1/en.md").read_text(encoding="utf-8")
    assert '- Rule as written: `level(dv_risk) == "high" or (age < 18 and strangulation)`' in markdown


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium found (install the Debian package 'chromium' to run the browser test)")
def test_tables_fit_a_narrow_page(tmp_path):
    """On a 760-pixel-wide window the nl 2026.2 page scrolls down, never sideways: its tables wrap to fit."""
    build_site([ROOT / "rulesets/nl/2026.2.yaml"], tmp_path / "out")
    page = tmp_path / "out/nl/2026.2/nl.html"
    probe = "<script>document.body.dataset.overflow = String(document.documentElement.scrollWidth - document.documentElement.clientWidth)</script>"
    measured = tmp_path / "measured.html"
    measured.write_text(page.read_text(encoding="utf-8").replace("</body>", probe + "</body>"), encoding="utf-8")
    dom = chromium("--dump-dom", "--window-size=760,1000", measured.as_uri(), profile=tmp_path / "profile")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert 'data-overflow="0"' in dom.stdout, dom.stdout[dom.stdout.find("<body"): dom.stdout.find("<body") + 200]
