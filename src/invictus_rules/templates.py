"""The one jinja2 environment for ruleset texts: sandboxed, allow-listed, checked at load time.

Texts are data written by policy staff, so templates are treated as untrusted:
- they run in jinja2's ``SandboxedEnvironment`` with ``StrictUndefined``;
- at load time their syntax tree is checked against an allow-list of node types and filters:
  no function or method calls, no arithmetic that can multiply sizes, no imports, macros or
  assignments, so no template can reach Python objects, loop forever or build huge strings;
- every variable must be one of the context names, and every service, question or score it names
  must exist in the ruleset;
- sizes are bounded: the template's length, loops inside loops (rejected), the iterations of one
  rendering, what ``join`` and ``~`` may build, and the rendered output;
- the work of one rendering is bounded (``MAX_WORK``): each loop iteration counts one step, each
  value read from the context counts its length, and each filter counts the length of what it
  reads and what it returns. A text whose cost grows with an answer's length (a loop that sorts a
  free-text answer at every turn) stops after a bounded amount of work instead of running for
  minutes; the count is of steps, not seconds, so the same case always gives the same result;
- texts print values only: never a method, a service or score as a whole, or the answers mapping
  (refused at load time where the template shows it, and at render time otherwise).
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.filters import do_join
from jinja2.sandbox import SandboxedEnvironment

MAX_OUTPUT = 20_000
MAX_SOURCE = 20_000
"""Characters of one template's source."""
MAX_ITERATIONS = 10_000
"""Loop iterations in one rendering of one template."""
MAX_WORK = 1_000_000
"""Steps of one rendering of one template: loop iterations, plus the length of every value read from
the context and of every filter's input and output."""
MAX_CONCAT = 20
"""Parts joined with '~' in one expression."""
MAX_NESTING = 50
"""Levels of the syntax tree: deeper trees break jinja2's code generator or Python's compiler
(about 100 nested {% if %} blocks exceed Python's indentation limit)."""
_ATTRIBUTE_ARGUMENT = {"sort": 2, "unique": 1, "join": 1}  # position of the 'attribute' argument

SERVICE_FIELDS = frozenset({"name", "description", "phone", "url", "email", "hours", "category"})
SCORE_FIELDS = frozenset({"points", "level", "level_label", "title"})
CONTEXT_NAMES = ("answers", "services", "scores", "as_of", "language")

_ALLOWED_FILTERS = frozenset(
    {
        "capitalize",
        "default",
        "d",
        "first",
        "join",
        "last",
        "length",
        "lower",
        "upper",
        "title",
        "trim",
        "sort",
        "unique",
        "list",
        "string",
        "round",
        "int",
    }
)
_ALLOWED_NODES = (
    nodes.Template,
    nodes.Output,
    nodes.TemplateData,
    nodes.Name,
    nodes.Const,
    nodes.Getattr,
    nodes.Getitem,
    nodes.If,
    nodes.CondExpr,
    nodes.Compare,
    nodes.Operand,
    nodes.And,
    nodes.Or,
    nodes.Not,
    nodes.Filter,
    nodes.Test,
    nodes.Concat,
    nodes.For,
    nodes.List,
    nodes.Tuple,
    nodes.Keyword,
)


@dataclass(frozen=True)
class TemplateIssue:
    """A problem in one template; ``line`` is 1-based inside the template text."""

    code: str
    message: str
    hint: str
    line: int = 1


_PRINTABLE = (str, int, float, bool, type(None))


def _printable(value: Any) -> bool:
    """Whether a value may appear in a text: text, numbers, and lists of them (never a method, a
    record of fields or a mapping, whose printed form is Python's and may change between runs)."""
    if isinstance(value, (*_PRINTABLE, jinja2.Undefined)):
        return True
    return isinstance(value, (list, tuple)) and all(isinstance(item, _PRINTABLE) for item in value)


def _finalize(value: Any) -> Any:
    if not _printable(value):
        raise RenderError("the text prints something that is not a value: print one field, e.g. services.x.phone")
    return value


_WORK: ContextVar[list[int]] = ContextVar("invictus_template_work")


def _charge(value: Any, steps: int = 0) -> None:
    """Count the work of handling ``value`` against this rendering's budget."""
    budget = _WORK.get(None)
    if budget is None:
        return  # not rendering (jinja2 folding constants at compile time)
    if isinstance(value, (str, list, tuple, dict)):
        steps += len(value)
    budget[0] -= steps
    if budget[0] < 0:
        raise RenderError(f"the text needs more than {MAX_WORK:,} steps to render")


class TextRecord(SimpleNamespace):
    """Fields a text reads (``services.x.phone``, ``scores.x.level``): attributes, so jinja2 finds
    them at the first try; also indexable and iterable by name, like the mapping it replaces."""

    def __getitem__(self, name: str) -> Any:
        return self.__dict__[name]

    def __iter__(self) -> Any:
        return iter(self.__dict__)


_DICT_ATTRIBUTES = frozenset(dir(dict))


class _Environment(SandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**", "//", "/", "%", "+"})

    def getattr(self, obj: Any, attribute: str) -> Any:
        # The fields of the two kinds of object texts read fields of (a TextRecord; the answers, a
        # dict) are found directly: the sandbox's general lookup gives the same value after checks
        # these pass (a name without an underscore first, that is not a method of dict).
        kind = type(obj)
        if kind is TextRecord:
            if attribute[:1] != "_" and attribute in obj.__dict__:
                return self._read(obj.__dict__[attribute])
        elif kind is dict and attribute in obj and attribute not in _DICT_ATTRIBUTES:
            return self._read(obj[attribute])
        return self._read(super().getattr(obj, attribute))

    def getitem(self, obj: Any, argument: Any) -> Any:
        return self._read(super().getitem(obj, argument))

    @staticmethod
    def _read(value: Any) -> Any:
        if callable(value) and not isinstance(value, jinja2.Undefined):
            raise RenderError("the text reads a method, not a value")
        budget = _WORK.get(None)  # _charge(value, 1), written out: every field read passes here
        if budget is not None:
            budget[0] -= 1 + len(value) if isinstance(value, (str, list, tuple, dict)) else 1
            if budget[0] < 0:
                raise RenderError(f"the text needs more than {MAX_WORK:,} steps to render")
        return value

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "+" and isinstance(left, str) and isinstance(right, str):
            result = left + right
            if len(result) > MAX_OUTPUT:
                raise jinja2.exceptions.SecurityError("text too long")
            return result
        raise jinja2.exceptions.SecurityError(f"the operator {operator} is not allowed in texts")


_ITERATIONS: ContextVar[list[int]] = ContextVar("invictus_template_iterations")


@jinja2.pass_context  # also keeps jinja2 from running it at compile time
def _counted(context: Any, values: Any) -> Iterator[Any]:
    """Every loop goes through this filter (added by ``check_template``): one budget per rendering."""
    budget = _ITERATIONS.get(None) or [MAX_ITERATIONS]
    for value in values:
        budget[0] -= 1
        if budget[0] < 0:
            raise RenderError(f"the text loops more than {MAX_ITERATIONS:,} times")
        _charge(None, 1)
        yield value


@jinja2.pass_eval_context
def _join(eval_ctx: Any, value: Any, d: str = "", attribute: Any = None) -> str:
    """jinja2's join, refusing before it builds a text of repeated separators past the output limit."""
    items = list(value)
    if len(str(d)) * max(len(items) - 1, 0) > MAX_OUTPUT:
        raise RenderError("the text is too long")
    return str(do_join(eval_ctx, items, d, attribute))


def _costed(function: Any) -> Any:
    """A filter that counts the length of what it reads and returns against the work budget."""
    value_at = 1 if getattr(function, "jinja_pass_arg", None) is not None else 0

    @functools.wraps(function)  # keeps jinja2's pass_context / pass_eval_context marks
    def costed(*args: Any, **kwargs: Any) -> Any:
        _charge(args[value_at], 1)
        result = function(*args, **kwargs)
        _charge(result)
        return result

    return costed


def _string(value: Any) -> str:
    """jinja2's string filter, for values only (a mapping or record would print Python's repr)."""
    if not _printable(value):
        raise RenderError("the text prints something that is not a value: print one field, e.g. services.x.phone")
    return str(value)


def _environment() -> SandboxedEnvironment:
    env = _Environment(
        finalize=_finalize,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.clear()
    env.filters = {name: env.filters[name] for name in _ALLOWED_FILTERS}
    env.filters.update(join=_join, string=_string)
    env.filters = {name: _costed(function) for name, function in env.filters.items()}
    env.filters["_counted"] = _counted
    env.tests = {name: env.tests[name] for name in ("defined", "undefined", "none", "number", "string", "true", "false")}
    return env


ENVIRONMENT = _environment()


class CheckedText:
    """A text whose template passed every check, compiled to Python on first use.

    jinja2's code generation is the costliest part of loading a ruleset and a run renders few of
    its texts, so it waits until a text is rendered (once, under a lock: safe across threads). A
    text without template syntax is never handed to jinja2 at all, and a text that reads only the
    services and the language (``static``) is rendered once per language and remembered. A text that
    reads named answers and score fields only is remembered too, by the values it reads
    (:func:`render_keyed`; the caller decides which answers may be keys).
    """

    __slots__ = ("source", "static", "plain", "_template", "_rendered", "_lock", "_reads", "_memo")

    def __init__(self, source: str, static: bool = False):
        self.source = source
        self.static = static
        self.plain: str | None = source.strip() if "{" not in source else None
        """The text itself when it has no template syntax, else None."""
        self._template: jinja2.Template | None = None
        self._rendered: dict[str, str] = {}
        self._lock = threading.Lock()
        self._reads: TextReads | None | bool = False  # False: not worked out yet
        self._memo: dict[Hashable, str | _Failed] = {}

    def reads(self) -> TextReads | None:
        """The answers and score fields the text reads, and whether it reads ``as_of``; None when it
        reads ``answers`` or ``scores`` other than by fields named in the text (then only a full
        rendering knows what it depends on)."""
        if self._reads is False:
            self._reads = _text_reads(ENVIRONMENT.parse(self.source))
        assert self._reads is not True
        return self._reads

    def template(self) -> jinja2.Template:
        if self._template is None:
            with self._lock:
                if self._template is None:
                    tree = ENVIRONMENT.parse(self.source)
                    for loop in list(tree.find_all(nodes.For)):
                        loop.iter = nodes.Filter(loop.iter, "_counted", [], [], None, None, lineno=loop.lineno)
                    for concat in list(tree.find_all(nodes.Concat)):  # '~' prints its parts: values only
                        concat.nodes = [nodes.Filter(part, "string", [], [], None, None, lineno=concat.lineno) for part in concat.nodes]
                    tree.set_environment(ENVIRONMENT)
                    self._template = ENVIRONMENT.from_string(tree)
        return self._template


def check_template(source: str, known: Mapping[str, Iterable[str]]) -> tuple[CheckedText | None, list[TemplateIssue]]:
    """Parse and check one template. ``known`` maps 'services', 'answers', 'scores' to their ids."""
    if len(source) > MAX_SOURCE:
        return None, [
            TemplateIssue(
                "template-too-long",
                f"the text is {len(source):,} characters long; texts are limited to {MAX_SOURCE:,}",
                "split it into several information items",
            )
        ]
    simple = _simple_reads(source, known)
    if simple is not None:  # only plain fields printed: no need to parse it to know it is safe
        return CheckedText(source, static=not simple & {"answers", "scores", "as_of"}), []
    try:
        tree = ENVIRONMENT.parse(source)
        issues = list(_check_tree(tree, {name: frozenset(ids) for name, ids in known.items()}))
        if issues:
            return None, issues
        reads = {n.name for n in tree.find_all(nodes.Name) if n.ctx == "load"}
        return CheckedText(source, static=not reads & {"answers", "scores", "as_of"}), []
    except jinja2.TemplateSyntaxError as exc:  # from the parser, or the compiler's own checks
        return None, [
            TemplateIssue(
                "template-syntax",
                f"the text's template syntax is wrong: {exc.message}",
                "check that every '{{' has its '}}' and every '{% if %}' its '{% endif %}'",
                exc.lineno or 1,
            )
        ]
    except RecursionError:
        return None, [
            TemplateIssue(
                "template-too-deep",
                "the text nests too deeply to be read",
                "use fewer brackets and fewer {% if %} blocks inside each other",
            )
        ]


_FIELD = re.compile(r"\{\{ *([a-z_]+)((?:\.[A-Za-z][A-Za-z0-9_]*){0,2}) *\}\}")
_SIMPLE_FIELDS = {"services": SERVICE_FIELDS, "scores": SCORE_FIELDS}


def _simple_reads(source: str, known: Mapping[str, Iterable[str]]) -> set[str] | None:
    """The context names a text reads when all its template syntax is ``{{ services.x.phone }}``,
    ``{{ answers.x }}``, ``{{ scores.x.level }}``, ``{{ as_of }}`` or ``{{ language }}`` with ids and
    fields that exist; None for anything else, which the full check then parses and explains.

    Most texts are of this kind, and parsing each with jinja2 was most of the time of loading a
    large ruleset. The answer is the full check's: such a text passes every one of its checks."""
    reads: set[str] = set()
    for match in _FIELD.finditer(source):
        name, path = match.group(1), match.group(2).split(".")[1:]
        if name in ("as_of", "language"):
            ok = not path
        elif name == "answers":
            ok = len(path) == 1 and path[0] in known.get("answers", ())
        elif name in _SIMPLE_FIELDS:
            ok = len(path) == 2 and path[0] in known.get(name, ()) and path[1] in _SIMPLE_FIELDS[name]
        else:
            ok = False
        if not ok:
            return None
        reads.add(name)
    rest = _FIELD.sub("", source)
    if "{" in rest or "}" in rest:  # any other brace may change how jinja2 reads the fields
        return None
    return reads


def _check_tree(tree: nodes.Template, known: Mapping[str, frozenset[str]]) -> Iterable[TemplateIssue]:
    found = False
    for issue in _check_nodes(tree, known):
        found = True
        yield issue
    if not found:  # what a text prints is checked once its names and fields are known to be right
        for node in _walk(tree):
            yield from _check_printed(node, getattr(node, "lineno", 1) or 1)


def _check_nodes(tree: nodes.Template, known: Mapping[str, frozenset[str]]) -> Iterable[TemplateIssue]:
    stack: list[tuple[nodes.Node, int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_NESTING:
            yield TemplateIssue(
                "template-too-deep",
                f"the text nests more than {MAX_NESTING} levels deep",
                "use fewer {% if %} blocks inside each other and shorter chains of and/or and filters",
                getattr(node, "lineno", 1) or 1,
            )
            return
        stack.extend((child, depth + 1) for child in node.iter_child_nodes())
    loop_names: set[str] = set()
    for loop in tree.find_all(nodes.For):
        targets = [loop.target, *loop.target.find_all(nodes.Name)]
        loop_names.update(n.name for n in targets if isinstance(n, nodes.Name))
    for node in _walk(tree):
        line = getattr(node, "lineno", 1) or 1
        if not isinstance(node, _ALLOWED_NODES):
            yield TemplateIssue(
                "template-unsafe",
                f"'{type(node).__name__}' is not allowed in ruleset texts",
                "texts may show values, use if/else, loop over lists and apply simple filters such as upper or join",
                line,
            )
            continue
        if isinstance(node, nodes.Name) and node.ctx == "load":
            if node.name not in CONTEXT_NAMES and node.name not in loop_names:
                yield TemplateIssue(
                    "template-variable",
                    f"the text uses '{node.name}', which is not available",
                    f"texts can use {', '.join(CONTEXT_NAMES)}",
                    line,
                )
        elif isinstance(node, (nodes.Getattr, nodes.Getitem)):
            yield from _check_access(node, known, line)
        elif isinstance(node, nodes.Filter) and node.name not in _ALLOWED_FILTERS:
            yield TemplateIssue(
                "template-unsafe",
                f"the filter '{node.name}' is not allowed in ruleset texts",
                f"allowed filters: {', '.join(sorted(_ALLOWED_FILTERS))}",
                line,
            )
        elif isinstance(node, nodes.Test) and node.name not in ENVIRONMENT.tests:
            yield TemplateIssue("template-unsafe", f"the test '{node.name}' is not allowed in ruleset texts", "use 'is defined' or 'is none'", line)
        yield from _check_sizes(node, line)


_WHOLE = {"mapping": "all the {name} at once", "record": "a whole {kind}"}


def _kind(node: nodes.Node) -> str | None:
    """What an expression is, where the template shows it: a context mapping (``answers``), a record
    of fields (``services.x``), a plain value (``answers.x``, ``services.x.phone``), or unknown."""
    if isinstance(node, nodes.Name):
        return {"answers": "mapping", "services": "mapping", "scores": "mapping", "as_of": "value", "language": "value"}.get(node.name)
    if isinstance(node, (nodes.Getattr, nodes.Getitem)):
        target = _kind(node.node)
        if target == "mapping":
            return "value" if isinstance(node.node, nodes.Name) and node.node.name == "answers" else "record"
        if target == "record":
            return "value"
    return None


def _check_printed(node: nodes.Node, line: int) -> Iterable[TemplateIssue]:
    """Texts print values, never Python objects: a method, a record of fields, the answers mapping."""
    if isinstance(node, (nodes.Getattr, nodes.Getitem)) and _kind(node.node) == "value":
        yield TemplateIssue(
            "template-unsafe",
            f"'{_attribute(node) or '[...]'}' is read from a value, which has no fields or methods",
            "print the value itself, e.g. {{ answers.x }}, or use a filter such as upper",
            line,
        )
        return
    if isinstance(node, nodes.Output):
        printed = [child for child in node.nodes if not isinstance(child, nodes.TemplateData)]
    elif isinstance(node, nodes.Concat):
        printed = list(node.nodes)
    elif isinstance(node, nodes.Filter) and node.name == "string" and node.node is not None:
        printed = [node.node]
    else:
        return
    for child in printed:
        if _kind(child) in ("mapping", "record"):
            yield TemplateIssue(
                "template-unsafe",
                "the text prints a whole mapping or record (all the answers, a service or a score), not one value",
                "print one field, e.g. {{ services.x.phone }} or {{ answers.x }}",
                line,
            )


def cost_growth(source: str, text_questions: Iterable[str]) -> list[str]:
    """The free-text answers whose length the rendering cost of ``source`` grows with, more than once
    over: loops over such an answer, or reads of one inside a loop (e.g. sorting it at every turn).
    Each is bounded at render time by ``MAX_WORK``, but a long answer then loses the text."""
    ids = frozenset(text_questions)
    try:
        tree = ENVIRONMENT.parse(source)
    except (jinja2.TemplateSyntaxError, RecursionError):
        return []

    def reads(node: nodes.Node) -> set[str]:
        found = set()
        for access in _walk(node):
            if isinstance(access, (nodes.Getattr, nodes.Getitem)) and isinstance(access.node, nodes.Name) and access.node.name == "answers":
                attribute = _attribute(access)
                if attribute in ids:
                    found.add(attribute)
        return found

    grows: set[str] = set()
    for loop in tree.find_all(nodes.For):
        grows |= reads(loop.iter)
        for child in (*loop.body, *loop.else_):
            grows |= reads(child)
    return sorted(grows)


def _check_sizes(node: nodes.Node, line: int) -> Iterable[TemplateIssue]:
    """What could make rendering slow or huge, or reach an attribute by a computed name."""
    if isinstance(node, nodes.Name) and node.ctx == "store" and node.name == "loop":
        yield TemplateIssue("template-syntax", "'loop' cannot be the name of a loop variable", "choose another name, e.g. item", line)
    elif isinstance(node, nodes.For) and next(node.find_all(nodes.For), None) is not None:
        yield TemplateIssue("template-unsafe", "a loop inside a loop is not allowed in ruleset texts", "loop over one list at a time", line)
    elif isinstance(node, nodes.Getitem) and not isinstance(node.arg, nodes.Const):
        yield TemplateIssue(
            "template-unsafe",
            "a computed key in [...] is not allowed in ruleset texts",
            "write the key out, e.g. services.veilig_thuis.phone",
            line,
        )
    elif isinstance(node, nodes.Concat) and len(node.nodes) > MAX_CONCAT:
        yield TemplateIssue("template-unsafe", f"more than {MAX_CONCAT} parts are joined with '~'", "write the text out instead", line)
    elif isinstance(node, nodes.Filter) and node.name in _ATTRIBUTE_ARGUMENT:
        position = _ATTRIBUTE_ARGUMENT[node.name]
        attribute = [k.value for k in node.kwargs if k.key == "attribute"] + node.args[position : position + 1]
        for value in attribute:
            if not isinstance(value, nodes.Const) or any(part.startswith("_") for part in str(value.value).split(".")):
                yield TemplateIssue(
                    "template-unsafe",
                    f"the 'attribute' of the filter '{node.name}' must be a field name written out, without underscores first",
                    "e.g. sort(attribute='name')",
                    line,
                )


def _walk(node: nodes.Node) -> Iterable[nodes.Node]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(current.iter_child_nodes())


def _attribute(node: nodes.Getattr | nodes.Getitem) -> str | None:
    if isinstance(node, nodes.Getattr):
        return node.attr
    if isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
        return node.arg.value
    return None


def _check_access(node: nodes.Getattr | nodes.Getitem, known: Mapping[str, frozenset[str]], line: int) -> Iterable[TemplateIssue]:
    attribute = _attribute(node)
    if attribute is None:
        return
    if attribute.startswith("_"):
        yield TemplateIssue(
            "template-unsafe",
            f"'{attribute}' starts with an underscore, which is not allowed in ruleset texts",
            "use the names of services, questions and scores only",
            line,
        )
        return
    target = node.node
    if isinstance(target, nodes.Name) and target.name in known:
        ids = known[target.name]
        if attribute not in ids:
            from .expr.check import did_you_mean

            kind = {"services": "service", "answers": "question", "scores": "score"}[target.name]
            yield TemplateIssue(
                "template-reference",
                f"the text uses {target.name}.{attribute}, but there is no {kind} '{attribute}'",
                did_you_mean(attribute, ids) or f"check the {kind} ids",
                line,
            )
    elif isinstance(target, (nodes.Getattr, nodes.Getitem)) and isinstance(target.node, nodes.Name):
        fields = {"services": SERVICE_FIELDS, "scores": SCORE_FIELDS}.get(target.node.name)
        if fields is not None and attribute not in fields:
            yield TemplateIssue(
                "template-reference",
                f"'{attribute}' is not a field of {target.node.name[:-1]}",
                f"the fields are {', '.join(sorted(fields))}",
                line,
            )


def referenced_names(texts: Iterable[str]) -> dict[str, set[str]]:
    """The services, answers and scores that templates name (``services.x``), by context name."""
    found: dict[str, set[str]] = {"services": set(), "answers": set(), "scores": set()}
    for text in texts:
        try:
            tree = ENVIRONMENT.parse(text)
        except jinja2.TemplateSyntaxError:
            continue
        for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
            assert isinstance(node, (nodes.Getattr, nodes.Getitem))  # the stub of find_all loses the tuple of types
            attribute = _attribute(node)
            if attribute and isinstance(node.node, nodes.Name) and node.node.name in found:
                found[node.node.name].add(attribute)
    return found


def ruleset_texts(document: Any) -> list[str]:
    """Every template text of a ruleset document: referral reasons and actions, information titles and
    bodies, and the safety advice."""
    texts = [t for r in document.referrals for t in (*r.reason.values(), *(r.action or {}).values())]
    texts += [t for i in document.information for t in (*i.title.values(), *i.body.values())]
    if document.safety is not None:
        texts += list(document.safety.advice.values())
    return texts


class RenderError(Exception):
    """A template failed while rendering (e.g. it printed an answer that was not given)."""


def render(text: CheckedText, context: Mapping[str, Any]) -> str:
    """Render a checked text; raise RenderError instead of any jinja2 or sandbox error.

    A static text's rendering is remembered per language: its context (the ruleset's services in
    that language) is the same for every case.
    """
    if text.plain is not None:
        return text.plain
    if text.static:
        language = context.get("language", "")
        rendered = text._rendered.get(language)
        if rendered is None:
            rendered = _render(text, context)
            with text._lock:
                text._rendered[language] = rendered
        return rendered
    return _render(text, context)


MEMO_SIZE = 512
"""Renderings remembered per text by :func:`render_keyed`; past it, texts are rendered every time."""


class _Failed:
    """A rendering that failed, remembered with its reason."""

    __slots__ = ("reason",)

    def __init__(self, reason: str):
        self.reason = reason


def render_keyed(text: CheckedText, key: Hashable, context: Callable[[], Mapping[str, Any]]) -> str:
    """Render a checked text whose rendering depends only on ``key``, remembering it under that key.

    The caller promises that two calls with equal keys give equal contexts for what the text reads
    (:meth:`CheckedText.reads` says what that is). ``context`` is called only when the key is new.
    A failed rendering is remembered too and raises the same RenderError again.
    """
    done = text._memo.get(key)
    if done is None:
        try:
            done = _render(text, context())
        except RenderError as exc:
            done = _Failed(str(exc))
        if len(text._memo) < MEMO_SIZE:
            with text._lock:
                text._memo.setdefault(key, done)
    if type(done) is _Failed:
        raise RenderError(done.reason)
    return done  # type: ignore[return-value]


@dataclass(frozen=True)
class TextReads:
    """What a text reads besides the services and the language: named answers, (score, field) pairs
    and ``as_of``, each in the order first seen."""

    answers: tuple[str, ...]
    scores: tuple[tuple[str, str], ...]
    as_of: bool


def _text_reads(tree: nodes.Template) -> TextReads | None:
    """The fields a template reads, or None if it reads ``answers`` or ``scores`` any other way
    (as a whole, by a computed key, or a loop variable of that name hides them)."""
    answers: dict[str, None] = {}
    scores: dict[tuple[str, str], None] = {}
    covered: set[int] = set()
    for access in _walk(tree):
        if not isinstance(access, (nodes.Getattr, nodes.Getitem)) or not isinstance(access.node, nodes.Name):
            continue
        name = access.node.name
        attribute = _attribute(access)
        if name == "answers" and attribute is not None:
            answers[attribute] = None
            covered.add(id(access.node))
    for access in _walk(tree):  # scores.<id>.<field>
        if not isinstance(access, (nodes.Getattr, nodes.Getitem)):
            continue
        inner = access.node
        if isinstance(inner, (nodes.Getattr, nodes.Getitem)) and isinstance(inner.node, nodes.Name) and inner.node.name == "scores":
            score, field = _attribute(inner), _attribute(access)
            if score is not None and field is not None:
                scores[(score, field)] = None
                covered.add(id(inner.node))
    as_of = False
    for node in tree.find_all(nodes.Name):
        if node.name in CONTEXT_NAMES and node.ctx != "load":
            return None
        if node.name in ("answers", "scores") and id(node) not in covered:
            return None
        as_of = as_of or node.name == "as_of"
    return TextReads(tuple(answers), tuple(scores), as_of)


def _render(text: CheckedText, context: Mapping[str, Any]) -> str:
    budget = _ITERATIONS.set([MAX_ITERATIONS])
    work = _WORK.set([MAX_WORK])
    try:
        parts: list[str] = []
        size = 0
        for chunk in text.template().generate(context):
            size += len(chunk)
            if size > MAX_OUTPUT:
                raise RenderError("the text is too long")
            parts.append(chunk)
        return "".join(parts).strip()
    except RenderError:
        raise
    except (jinja2.TemplateError, TypeError, ValueError, AttributeError, KeyError, OverflowError) as exc:
        raise RenderError(type(exc).__name__) from None
    finally:
        _WORK.reset(work)
        _ITERATIONS.reset(budget)
