"""Readable documentation of rulesets, for policy staff and lawyers: static HTML and Markdown.

``build_site(rulesets, out_dir)`` writes, for every ruleset and each of its languages, one
self-contained HTML page (inline CSS, no scripts, nothing fetched from elsewhere, printable) and one
Markdown file, plus an index of every country, version and language:

    out_dir/index.html, index.md
    out_dir/<cc>/<version>/<language>.html, <language>.md

The pipeline: compile each ruleset -> build a view of it per language (``_page``: every text picked
in that language, every condition in words through :mod:`.prose`, every ruleset text rendered) ->
render the view with the project's own jinja2 templates in ``doc_templates/``. Ruleset texts are
rendered through the engine's sandbox exactly as in an assessment, with no answers, so information
shows its general form; a text that cannot render without answers is shown as written.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

import jinja2

from .._version import __version__
from ..compile import compile_file
from ..compiled import CompiledCondition, CompiledInformation, CompiledReferral, CompiledRuleset, CompiledScore
from ..errors import InvictusError, Problem
from ..labels import labels, language_name
from ..load import display_path, find_ruleset, list_countries, list_versions
from ..model import CHANNELS, Question, Service
from ..numbers import format_number
from ..refs import is_ruleset_ref
from ..templates import CheckedText, RenderError, render
from ..texts import pick_text, text_language
from .files import write_atomic
from .prose import Outline, describe, outline, phrases_for
from .variants import Branch, condition_words, split_branches

TEMPLATES = Path(__file__).resolve().parent / "doc_templates"
INDEX_LANGUAGE = "en"


# -- the view of one ruleset in one language ---------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """A condition in words (one sentence, and laid out as a tree), and as written in the ruleset."""

    words: str
    outline: Outline
    written: str


@dataclass(frozen=True)
class Part:
    """A stretch of a text, and when a victim reads it ('' for always: otherwise "If ...:" in words)."""

    text: str
    condition: str = ""


@dataclass(frozen=True)
class Rendered:
    """A ruleset text as a reader sees it, or its template source when it needs a victim's answers.

    A text with branches on the answers has ``parts``: every variant, each with its condition in
    words, in the order a victim reads them; ``text`` is then what every victim reads.
    """

    text: str
    source: str | None = None
    parts: tuple[Part, ...] = ()


@dataclass(frozen=True)
class Translated:
    """A text in the page's language, or in another one with a note saying so (``fallback``)."""

    text: str
    fallback: str = ""


@dataclass(frozen=True)
class QuestionView:
    number: int
    id: str
    text: str
    type: str
    required: bool
    options: list[tuple[str, str]]
    allowed: str
    help: str
    ask_if: Rule | None


@dataclass(frozen=True)
class SectionView:
    title: str
    questions: list[QuestionView]


@dataclass(frozen=True)
class IndicatorView:
    id: str
    label: str
    rule: Rule
    points: str
    critical: bool


@dataclass(frozen=True)
class LevelView:
    id: str
    label: str
    rule: Rule | None


@dataclass(frozen=True)
class ScoreView:
    id: str
    title: str
    description: str
    basis: Translated
    indicators: list[IndicatorView]
    levels: list[LevelView]
    override: str


@dataclass(frozen=True)
class ReferralView:
    id: str
    service_id: str
    service: str
    priority: str
    mode: str
    mode_explained: str
    rule: Rule
    reason: Rendered
    legal_basis: list[str]
    action: Rendered | None


@dataclass(frozen=True)
class InformationView:
    id: str
    title: Rendered
    body: Rendered
    legal_basis: list[str]
    rule: Rule


@dataclass(frozen=True)
class ServiceView:
    id: str
    name: str
    description: str
    category: str
    phone: str
    url: str
    email: str
    hours: str
    languages: list[str]
    free: str
    first_contact: str


@dataclass(frozen=True)
class SafetyView:
    """The safety section: when it is safe to talk, how to reach the victim safely, what to do if not."""

    safe_to_talk: Rule
    safe_channels: str
    emergency: list[str]
    silent: list[str]
    advice: Rendered


@dataclass(frozen=True)
class Link:
    text: str
    href: str
    language: str


@dataclass(frozen=True)
class Page:
    """Everything one documentation page shows, already in its language."""

    language: str
    version: str
    title: str
    description: str
    facts: list[tuple[str, str]]
    ruleset_id: str
    sha256: str
    legal_basis: list[Translated]
    sources: list[str]
    sections: list[SectionView]
    scores: list[ScoreView]
    referrals: list[ReferralView]
    information: list[InformationView]
    services: list[ServiceView]
    changelog: list[tuple[str, list[Translated]]]
    languages: list[Link]
    footer: str
    safety: SafetyView | None
    draft: bool = False


class _Picker:
    """Texts of one ruleset in one language, falling back to the ruleset's default language."""

    def __init__(self, ruleset: CompiledRuleset, language: str):
        self.ruleset = ruleset
        self.language = language
        self.default = ruleset.metadata.default_language
        self.labels = labels(language)

    def __call__(self, texts: Mapping[str, str] | None) -> str:
        return pick_text(texts, self.language, self.default)

    def label(self, key: str, **parts: str) -> str:
        return self.labels[key].format(**parts)

    def translated(self, value: str | Mapping[str, str] | None) -> Translated:
        """A text that may be one plain text (read as English) or a text per language; a fallback is marked."""
        if not value:
            return Translated("")
        if isinstance(value, str):
            return Translated(value, "" if self.language == "en" else self.label("untranslated", language=language_name("en")))
        shown = text_language(value, self.language, self.default)
        if shown == self.language:
            return Translated(value[shown])
        if shown is None:
            return Translated("")
        return Translated(value[shown], self.label("untranslated", language=language_name(shown)))

    def quote(self, text: str) -> str:
        words = phrases_for(self.language)
        return f"{words['open_quote']}{text}{words['close_quote']}"

    def rule(self, condition: CompiledCondition, written: object = None) -> Rule:
        """A condition in words, and as its author wrote it (``written``: the ruleset's own text, parentheses and all)."""
        node, ruleset, language = condition.node, self.ruleset, self.language
        as_written = " ".join(written.split()) if isinstance(written, str) else condition.text
        return Rule(describe(node, ruleset, language), outline(node, ruleset, language), as_written)

    def template(self, templates: Mapping[str, CheckedText], sources: Mapping[str, str], context: Mapping[str, Any]) -> Rendered:
        language = text_language(templates, self.language, self.default)
        if language is None:
            return Rendered("")
        parts = self.variants(sources[language], context) if "{%" in sources[language] else None
        if parts is not None:
            return Rendered(" ".join(part.text for part in parts if not part.condition), None, parts)
        try:
            text = render(templates[language], context)
        except RenderError:
            text = ""
        return Rendered(text) if text else Rendered("", sources[language])


    def variants(self, source: str, context: Mapping[str, Any]) -> tuple[Part, ...] | None:
        """Every branch of a text with its condition in words, or None when the text is not split (no branches, or a loop)."""
        pieces = split_branches(source)
        if pieces is None or all(not piece.branches for piece in pieces):
            return None
        parts = []
        for piece in pieces:
            try:
                text = render(CheckedText(piece.source), context)
            except RenderError:
                text = " ".join(piece.source.split())
            parts.append(Part(text.strip(), " ".join(self.branch(branch) for branch in piece.branches)))
        return tuple(parts)

    def branch(self, branch: Branch) -> str:
        if not branch.test:
            return self.label("variant_else")
        words = condition_words(branch.test, self.ruleset, self.language) or self.quote(branch.test)
        return self.label("variant_else_if" if branch.earlier else "variant_if", condition=words)


def _page(ruleset: CompiledRuleset, language: str, file: str) -> Page:
    pick = _Picker(ruleset, language)
    meta = ruleset.metadata
    context = _text_context(ruleset, pick)
    return Page(
        language=language,
        version=meta.version,
        title=pick(meta.title),
        description=pick(meta.description),
        facts=_facts(ruleset, pick),
        ruleset_id=meta.id,
        sha256=ruleset.digest,
        legal_basis=[pick.translated(basis) for basis in meta.legal_basis],
        sources=list(meta.sources),
        sections=_sections(ruleset, pick),
        scores=[_score(score, pick) for score in ruleset.scores],
        referrals=[_referral(rule, pick, context) for rule in ruleset.referrals],
        information=[_information(item, pick, context) for item in ruleset.information],
        services=[_service(service, pick) for service in ruleset.services.values()],
        changelog=[
            (pick.label("changelog_entry", version=entry.version, date=entry.date.isoformat()), [pick.translated(change) for change in entry.changes])
            for entry in meta.changelog
        ],
        languages=[Link(language_name(lang), f"{lang}.html", lang) for lang in meta.languages],
        footer=pick.label("footer", engine=__version__, file="/".join(Path(file).parts[-2:])),
        safety=_safety(ruleset, pick, context),
        draft=meta.status == "draft",
    )


def _safety(ruleset: CompiledRuleset, pick: _Picker, context: Mapping[str, Any]) -> SafetyView | None:
    safety = ruleset.safety
    if safety is None:
        return None
    services = context["services"]
    return SafetyView(
        safe_to_talk=pick.rule(safety.condition, safety.spec.safe_to_talk),
        safe_channels=safety.spec.safe_channels,
        emergency=[services[s]["name"] for s in safety.spec.emergency],
        silent=[services[s]["name"] for s in safety.spec.silent],
        advice=pick.template(safety.advice, safety.spec.advice, context),
    )


def _text_context(ruleset: CompiledRuleset, pick: _Picker) -> dict[str, Any]:
    """What ruleset texts may print, as in an assessment, but with no answers and no score results."""
    services = {
        service.id: {
            "name": pick(service.name),
            "description": pick(service.description) or None,
            "phone": service.phone,
            "url": service.url,
            "email": service.email,
            "hours": pick(service.hours) or None,
            "category": service.category,
        }
        for service in ruleset.services.values()
    }
    scores = {
        score.spec.id: {"points": None, "level": None, "level_label": None, "title": pick(score.spec.title)}
        for score in ruleset.scores
    }
    meta = ruleset.metadata
    return {"answers": {}, "services": services, "scores": scores, "as_of": _day(meta.effective_from), "language": pick.language}


def _day(day: dt.date | None) -> str:
    """A date as written in the docs; a draft may not have its effective_from yet."""
    return day.isoformat() if day is not None else "—"


def _facts(ruleset: CompiledRuleset, pick: _Picker) -> list[tuple[str, str]]:
    meta = ruleset.metadata
    start = _day(meta.effective_from)
    effective = (
        pick.label("effective_range", start=start, end=meta.effective_until.isoformat())
        if meta.effective_until
        else pick.label("effective_open", start=start)
    )
    return [
        (pick.label("country"), _country(meta.country, pick)),
        (pick.label("version"), meta.version),
        (pick.label("status"), pick.label(f"status.{meta.status}")),
        (pick.label("effective"), effective),
        (pick.label("languages"), ", ".join(language_name(lang) for lang in meta.languages)),
    ]


def _country(code: str, pick: _Picker) -> str:
    name = pick.labels.get(f"country.{code}")
    return f"{name} ({code.upper()})" if name else code.upper()


def _sections(ruleset: CompiledRuleset, pick: _Picker) -> list[SectionView]:
    """Questions in order, grouped into runs of the same section."""
    sections: list[SectionView] = []
    for number, compiled in enumerate(ruleset.questions, 1):
        question = _question(number, compiled.spec, compiled.ask_if, pick)
        title = _section_title(compiled.spec.section, pick)
        if not sections or sections[-1].title != title:
            sections.append(SectionView(title, []))
        sections[-1].questions.append(question)
    return sections


def _section_title(section: str | None, pick: _Picker) -> str:
    if section is None:
        return pick.label("section.other")
    return pick.labels.get(f"section.{section}") or section.replace("_", " ").capitalize()


def _question(number: int, question: Question, ask_if: CompiledCondition | None, pick: _Picker) -> QuestionView:
    return QuestionView(
        number=number,
        id=question.id,
        text=pick(question.text),
        type=pick.label(f"type.{question.type}"),
        required=question.required,
        options=[(option.value, pick(option.label)) for option in question.options or ()],
        allowed=_allowed(question, pick),
        help=pick(question.help),
        ask_if=pick.rule(ask_if, question.ask_if) if ask_if else None,
    )


def _allowed(question: Question, pick: _Picker) -> str:
    low, high = (_number(question.min), _number(question.max))
    if low and high:
        return pick.label("range", min=low, max=high)
    if low or high:
        return pick.label("range_min", min=low) if low else pick.label("range_max", max=high)
    return pick.label("max_length", n=str(question.max_length)) if question.max_length else ""


def _number(value: float | None) -> str:
    return "" if value is None else format_number(value)


def _score(compiled: CompiledScore, pick: _Picker) -> ScoreView:
    spec = compiled.spec
    title = pick(spec.title)
    override = ""
    if spec.override is not None:
        question = next(q for q in pick.ruleset.questions if q.spec.id == spec.override.question)
        override = pick.label("override_text", question=pick.quote(pick(question.spec.text)))
    return ScoreView(
        id=spec.id,
        title=title,
        description=pick(spec.description),
        basis=pick.translated(spec.basis),
        indicators=[
            IndicatorView(item.spec.id, pick(item.spec.label), pick.rule(item.condition, item.spec.when), _number(item.spec.points), item.spec.critical)
            for item in compiled.items
        ],
        levels=[
            LevelView(level.id, pick(level.label), pick.rule(condition, level.when) if condition else None)
            for level, (_, condition) in zip(spec.levels, compiled.levels, strict=True)
        ],
        override=override or pick.label("no_override"),
    )


def _referral(rule: CompiledReferral, pick: _Picker, context: Mapping[str, Any]) -> ReferralView:
    spec = rule.spec
    return ReferralView(
        id=spec.id,
        service_id=spec.service,
        service=context["services"][spec.service]["name"],
        priority=pick.label(f"priority.{spec.priority}"),
        mode=pick.label(f"mode.{spec.mode}"),
        mode_explained=pick.label(f"mode_explained.{spec.mode}"),
        rule=pick.rule(rule.condition, spec.when),
        reason=pick.template(rule.reason, spec.reason, context),
        legal_basis=list(spec.legal_basis or ()),
        action=pick.template(rule.action, spec.action, context) if spec.action else None,
    )


def _information(item: CompiledInformation, pick: _Picker, context: Mapping[str, Any]) -> InformationView:
    spec = item.spec
    return InformationView(
        id=spec.id,
        title=pick.template(item.title, spec.title, context),
        body=pick.template(item.body, spec.body, context),
        legal_basis=list(spec.legal_basis),
        rule=pick.rule(item.condition, spec.when),
    )


def _service(service: Service, pick: _Picker) -> ServiceView:
    free = {True: "yes", False: "no", None: "not_stated"}[service.free_of_charge]
    return ServiceView(
        id=service.id,
        name=pick(service.name),
        description=pick(service.description),
        category=pick.label(f"category.{service.category}"),
        phone=service.phone or "",
        url=service.url or "",
        email=service.email or "",
        hours=pick(service.hours),
        languages=[language_name(lang) for lang in service.languages],
        free=pick.label(free),
        first_contact=_first_contact(service, pick),
    )


def _first_contact(service: Service, pick: _Picker) -> str:
    if service.first_contact is None:
        return pick.label("not_stated")
    channels = [c for c in CHANNELS if c in service.first_contact_channels]
    return ", ".join(pick.label(f"channel.{c}") for c in channels) or pick.label("first_contact_none")


# -- rendering -----------------------------------------------------------------------------------


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(md=markdown_inline, md_cell=markdown_cell, md_code=markdown_code, md_outline=markdown_outline, fence=markdown_fence, paragraphs=paragraphs, url=link_target, md_link=markdown_link)
    return env


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")


def markdown_inline(text: str) -> str:
    """Text that Markdown shows as written: its markup characters escaped."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


def markdown_cell(text: str) -> str:
    """Text for a Markdown table cell: escaped, on one line."""
    return " ".join(markdown_inline(text).split())


def markdown_outline(node: Outline, indent: str = "  ") -> str:
    """An outlined condition as Markdown: its sentence, then its parts as a nested list."""
    lines = [markdown_inline(node.text)]
    lines.extend(f"{indent}- {markdown_outline(part, indent + '  ')}" for part in node.parts)
    return "\n".join(lines)


def markdown_code(text: str) -> str:
    """Inline code, delimited by more backticks than any run inside ``text``."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * (longest + 1)
    return f"{ticks} {text} {ticks}" if longest else f"`{text}`"


def markdown_fence(text: str) -> str:
    """A fenced code block longer than any run of backticks inside ``text``."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}\n{text.strip()}\n{fence}"


def paragraphs(text: str) -> list[str]:
    """Paragraphs of a text: blocks separated by blank lines."""
    return [block.strip() for block in re.split(r"\n\s*\n", text) if block.strip()]


_WEB_ADDRESS = re.compile(r"https?://[^\s<>\"'`\\]+")


def link_target(text: str) -> str:
    """The address a source names, when it is a web address that is safe inside ``<...>`` (no
    spaces, quotes or angle brackets, which would end the link or start raw HTML); '' otherwise."""
    return text.strip() if _WEB_ADDRESS.fullmatch(text.strip()) else ""


def markdown_link(text: str) -> str:
    """A web address as a Markdown autolink, or, when it is not a plain one, as escaped text."""
    target = link_target(text)
    return f"<{target}>" if target else markdown_cell(text)


@dataclass(frozen=True)
class _Built:
    ruleset: CompiledRuleset
    file: str


def build_site(rulesets: list[Path], out_dir: Path) -> list[Path]:
    """Write the documentation of ``rulesets`` into ``out_dir``; return the files written.

    Every ruleset is compiled first, so an invalid one stops the build before anything is written.
    """
    built = _compile_all(rulesets)
    env = _environment()
    written: list[Path] = []
    for item in built:
        meta = item.ruleset.metadata
        folder = out_dir / meta.country / meta.version
        for language in meta.languages:
            page = _page(item.ruleset, language, item.file)
            strings = labels(language)
            for extension in ("html", "md"):
                text = env.get_template(f"page.{extension}").render(page=page, L=strings)
                written.append(_write(folder / f"{language}.{extension}", text))
    index = _index(built)
    for extension in ("html", "md"):
        text = env.get_template(f"index.{extension}").render(countries=index, version=__version__)
        written.append(_write(out_dir / f"index.{extension}", text))
    return written


def _write(path: Path, text: str) -> Path:
    write_atomic(path, text)
    return path


def _compile_all(paths: Iterable[Path]) -> list[_Built]:
    """Each file once (a file named twice is documented once), in country and version order."""
    built: dict[tuple[str, str], _Built] = {}
    for path in dict.fromkeys(Path(p).resolve() for p in paths):
        ruleset = compile_file(path)
        key = (ruleset.metadata.country, ruleset.metadata.version)
        if key in built:
            raise InvictusError(
                [
                    Problem(
                        "duplicate-version",
                        f"{built[key].file} and {display_path(path)} are both version {key[1]} of the {key[0]} ruleset",
                        "document them in separate runs, or give the draft its own version",
                    )
                ]
            )
        built[key] = _Built(ruleset, display_path(path))
    return sorted(built.values(), key=lambda b: (b.ruleset.metadata.country, _version_key(b.ruleset.metadata.version)))


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def _index(built: list[_Built]) -> list[dict[str, Any]]:
    """Countries in order, each with its versions newest first and a link per language."""
    strings = labels(INDEX_LANGUAGE)
    countries: dict[str, dict[str, Any]] = {}
    for item in built:
        meta = item.ruleset.metadata
        name = strings.get(f"country.{meta.country}")
        country = countries.setdefault(
            meta.country, {"code": meta.country, "name": f"{name} ({meta.country.upper()})" if name else meta.country.upper(), "versions": []}
        )
        until = meta.effective_until.isoformat() if meta.effective_until else ""
        start = _day(meta.effective_from)
        country["versions"].insert(
            0,
            {
                "version": meta.version,
                "title": pick_text(meta.title, INDEX_LANGUAGE, meta.default_language),
                "status": strings[f"status.{meta.status}"],
                "effective": strings["effective_range"].format(start=start, end=until) if until else strings["effective_open"].format(start=start),
                "links": [Link(language_name(lang), f"{meta.country}/{meta.version}/{lang}", lang) for lang in meta.languages],
            },
        )
    return list(countries.values())


# -- command line --------------------------------------------------------------------------------


class _Streams(Protocol):
    out: IO[str]


def resolve_rulesets(references: list[str], rulesets_dir: Path | None = None) -> list[Path]:
    """Files for ruleset references: file paths, ``cc`` (every version) or ``cc@version``; none: every shipped ruleset."""
    if not references:
        references = list_countries(rulesets_dir)
    paths: list[Path] = []
    for reference in references:
        if Path(reference).is_file() or not is_ruleset_ref(reference):
            paths.append(Path(reference))
        elif "@" in reference or reference not in list_countries(rulesets_dir):
            paths.append(find_ruleset(reference, as_of=dt.date.today(), rulesets_dir=rulesets_dir))
        else:
            paths.extend(info.path for info in list_versions(reference, rulesets_dir))
    return paths


def cmd_docs(args: argparse.Namespace, io: _Streams) -> int:
    written = build_site(resolve_rulesets(args.rulesets), Path(args.out))
    pages = sum(1 for path in written if path.suffix == ".html") - 1
    io.out.write(f"wrote {pages} pages (HTML and Markdown) and an index to {args.out}; open {Path(args.out) / 'index.html'}\n")
    return 0


def add_commands(add: Callable[[str, Callable[[argparse.Namespace, Any], int], str], argparse.ArgumentParser]) -> None:
    """Register ``invictus-rules docs``."""
    docs = add(
        "docs",
        cmd_docs,
        "write readable documentation of rulesets for policy staff and lawyers: an HTML page and a Markdown file per language, and an index",
    )
    docs.add_argument(
        "rulesets",
        metavar="RULESET",
        nargs="*",
        help="ruleset files, country codes (every version) or cc@version (default: every version of every shipped ruleset)",
    )
    docs.add_argument("--out", metavar="DIR", required=True, help="the folder to write into (created if missing)")


__all__ = ["Page", "add_commands", "build_site", "resolve_rulesets"]
