"""Semantic diff of two ruleset versions: what changed, element by element, in meaning.

Elements are matched by id and compared field by field. Conditions are compared as parsed trees
after normalisation (operands of ``and``/``or`` and list items in a fixed order, comparisons with the
value on the right), so reformatting or reordering is no change. A condition that differs only in a
number is reported as a threshold raised or lowered; any changed condition is judged broader,
narrower, equivalent or neither by running both on the same representative cases
(:func:`~invictus_rules.tools.analysis.compare_conditions`).
"""

from __future__ import annotations

import dataclasses
import difflib
import html
import json
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator

from ..compile import CompiledCondition, CompiledRuleset
from ..expr.nodes import BoolOp, Compare, ListLiteral, Literal, Node, Not, unparse
from ..result import RulesetRef, ruleset_ref
from .analysis import compare_conditions

KINDS = ("metadata", "changelog", "safety", "question", "score", "score_item", "level", "service", "referral", "information")
KIND_TITLES = {
    "metadata": "Metadata",
    "safety": "Safety (safe to talk, safe channels, emergency and silent routes)",
    "changelog": "Changelog",
    "question": "Questions",
    "score": "Scores",
    "score_item": "Score indicators",
    "level": "Score levels",
    "service": "Services",
    "referral": "Referral rules",
    "information": "Information items",
}
PRIORITY_ORDER = {"immediate": 0, "urgent": 1, "standard": 2}


@dataclass(frozen=True)
class Detail:
    """One field that changed. ``note`` says what the change means (e.g. 'threshold lowered by 2')."""

    field: str
    old: Any = None
    new: Any = None
    note: str = ""


@dataclass(frozen=True)
class Change:
    kind: str
    id: str
    status: str  # added, removed, changed
    details: tuple[Detail, ...] = ()


@dataclass
class DiffReport:
    old: RulesetRef
    new: RulesetRef
    changes: list[Change] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.changes)

    def by_kind(self) -> Iterator[tuple[str, list[Change]]]:
        for kind in KINDS:
            items = [c for c in self.changes if c.kind == kind]
            if items:
                yield kind, items

    def changed_conditions(self) -> list[tuple[str, str]]:
        """(kind, id) of every element whose condition changed, for boundary cases in impact analysis."""
        return [(c.kind, c.id) for c in self.changes if any(d.field in ("when", "ask_if") for d in c.details)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "invictus-rules/diff/v1",
            "old": self.old.model_dump(mode="json"),
            "new": self.new.model_dump(mode="json"),
            "changed": self.changed,
            "changes": [
                {"kind": c.kind, "id": c.id, "status": c.status, "details": [_json_detail(d) for d in c.details]}
                for c in self.changes
            ],
        }


def _json_detail(detail: Detail) -> dict[str, Any]:
    return {k: v for k, v in dataclasses.asdict(detail).items() if v not in (None, "")}


# -- normalising conditions ---------------------------------------------------------------------

_MIRROR = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


def normalize(node: Node) -> Node:
    """A canonical tree: flattened and sorted and/or, sorted lists, values on the right."""
    if isinstance(node, BoolOp):
        parts: list[Node] = []
        for operand in (normalize(o) for o in node.operands):
            parts.extend(operand.operands if isinstance(operand, BoolOp) and operand.op == node.op else (operand,))
        unique = sorted({unparse(p): p for p in parts}.items())
        return BoolOp(node.op, tuple(p for _, p in unique)) if len(unique) > 1 else unique[0][1]
    if isinstance(node, Not):
        inner = normalize(node.operand)
        return inner.operand if isinstance(inner, Not) else Not(inner)
    if isinstance(node, Compare):
        left, right = normalize(node.left), normalize(node.right)
        if node.op in _MIRROR and isinstance(left, Literal) and not isinstance(right, Literal):
            return Compare(_MIRROR[node.op], right, left)
        return Compare(node.op, left, right)
    if isinstance(node, ListLiteral):
        items = sorted({unparse(i): i for i in node.items}.items())
        return ListLiteral(tuple(i for _, i in items))
    if hasattr(node, "operand"):
        return type(node)(normalize(node.operand))  # type: ignore[call-arg]
    if hasattr(node, "left"):
        return type(node)(node.op, normalize(node.left), normalize(node.right))  # type: ignore[call-arg,attr-defined]
    if hasattr(node, "args"):
        return type(node)(node.function, tuple(normalize(a) for a in node.args))  # type: ignore[call-arg,attr-defined]
    return node


def _thresholds(old: Node, new: Node) -> list[tuple[str, str, float, float]] | None:
    """If two trees differ only in numbers compared with something, those numbers; else None."""
    found: list[tuple[str, str, float, float]] = []

    def same(a: Node, b: Node, compare: Compare | None) -> bool:
        if type(a) is not type(b):
            return False
        if isinstance(a, Literal) and isinstance(b, Literal):
            if a.value == b.value:
                return True
            numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (a.value, b.value))
            if numeric and compare is not None and compare.op in ("<", "<=", ">", ">=", "==", "!="):
                found.append((unparse(compare.left), compare.op, a.value, b.value))  # type: ignore[arg-type]
                return True
            return False
        if isinstance(a, Compare):
            return a.op == b.op and same(a.left, b.left, a) and same(a.right, b.right, a)  # type: ignore[attr-defined]
        children_a = _children(a)
        children_b = _children(b)
        if len(children_a) != len(children_b) or _label(a) != _label(b):
            return False
        return all(same(x, y, None) for x, y in zip(children_a, children_b))

    if not same(old, new, None) or not found:
        return None
    sides = [(left, op) for left, op, _, _ in found]
    # two changed numbers on the same comparison cannot be paired for sure: say nothing about them
    return found if len(sides) == len(set(sides)) else None


def _children(node: Node) -> tuple[Node, ...]:
    for name in ("operands", "items", "args"):
        if hasattr(node, name):
            return tuple(getattr(node, name))
    if hasattr(node, "operand"):
        return (node.operand,)  # type: ignore[attr-defined]
    if hasattr(node, "left"):
        return (node.left, node.right)  # type: ignore[attr-defined]
    return ()


def _label(node: Node) -> Any:
    return getattr(node, "op", None), getattr(node, "function", None), getattr(node, "id", None)


def _direction(op: str, old: float, new: float) -> str:
    delta = new - old
    amount = f"{abs(delta):g}"
    word = "lowered" if delta < 0 else "raised"
    return f"threshold {word} by {amount}"


def condition_change(field_name: str, old: CompiledCondition | None, old_rs: CompiledRuleset, new: CompiledCondition | None, new_rs: CompiledRuleset) -> Detail | None:
    """The change of one condition, or None when its meaning did not change."""
    if old is None and new is None:
        return None
    if old is None or new is None:
        return Detail(field_name, old.text if old else None, new.text if new else None, "condition added" if old is None else "condition removed")
    old_norm, new_norm = normalize(old.node), normalize(new.node)
    if old_norm == new_norm:
        return None
    notes = []
    thresholds = _thresholds(old_norm, new_norm)
    if thresholds:
        notes.extend(f"{left} {op} {a:g} -> {b:g}: {_direction(op, a, b)}" for left, op, a, b in thresholds)
    effect = compare_conditions(old, old_rs, new, new_rs)
    notes.append({
        "broader": "broader: true in more cases",
        "narrower": "narrower: true in fewer cases",
        "equivalent": "same meaning, written differently",
        "neither": "neither broader nor narrower: true in some new cases and no longer in others",
        "undecided": "broader or narrower could not be decided",
    }[effect])
    if effect == "equivalent":
        return None
    return Detail(field_name, unparse(old_norm), unparse(new_norm), "; ".join(notes))


# -- comparing elements -------------------------------------------------------------------------


def _value_details(prefix: str, old: Any, new: Any) -> list[Detail]:
    """Field-level differences of two plain values (texts per language become one detail each)."""
    if old == new:
        return []
    if isinstance(old, dict) and isinstance(new, dict):
        details: list[Detail] = []
        for key in list(dict.fromkeys([*old, *new])):
            details.extend(_value_details(f"{prefix}.{key}" if prefix else str(key), old.get(key), new.get(key)))
        return details
    if isinstance(old, str) and isinstance(new, str) and max(len(old), len(new)) > LONG_TEXT:
        return [Detail(prefix, old, new, "text edited: " + word_diff(old, new))]
    return [Detail(prefix, old, new)]


LONG_TEXT = 100


def word_diff(old: str, new: str, context: int = 4) -> str:
    """The words removed [-like this-] and added {+like this+}, with a little context around each."""
    a, b = old.split(), new.split()
    pieces: list[str] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag == "equal":
            words = a[i1:i2]
            if len(words) > 2 * context:
                head = " ".join(words[:context]) if pieces else ""
                tail = " ".join(words[-context:])
                pieces.append(" ".join(p for p in (head, "…", tail) if p))
            else:
                pieces.append(" ".join(words))
            continue
        if i2 > i1:
            pieces.append("[-" + " ".join(a[i1:i2]) + "-]")
        if j2 > j1:
            pieces.append("{+" + " ".join(b[j1:j2]) + "+}")
    if pieces and not pieces[-1].startswith(("[-", "{+")) and "…" not in pieces[-1]:
        words = pieces[-1].split()
        pieces[-1] = " ".join(words[:context]) + (" …" if len(words) > context else "")
    return " ".join(p for p in pieces if p)


def _dump(model: Any, exclude: Iterable[str] = ()) -> dict[str, Any]:
    return model.model_dump(mode="json", by_alias=True, exclude=set(exclude))


def _by_id(items: Iterable[Any]) -> dict[str, Any]:
    return {item.spec.id if hasattr(item, "spec") else item.id: item for item in items}


def _matched(kind: str, old: dict[str, Any], new: dict[str, Any]) -> Iterator[tuple[str, Any, Any]]:
    for key in old:
        yield key, old[key], new.get(key)
    for key in new:
        if key not in old:
            yield key, None, new[key]


def diff_rulesets(old: CompiledRuleset, new: CompiledRuleset) -> DiffReport:
    """Everything that changed from ``old`` to ``new``, grouped by kind, in ruleset order."""
    report = DiffReport(ruleset_ref(old), ruleset_ref(new))
    add = report.changes.append

    meta_details = _value_details("", _dump(old.metadata, ["changelog"]), _dump(new.metadata, ["changelog"]))
    if meta_details:
        add(Change("metadata", old.metadata.id, "changed", tuple(meta_details)))
    old_log = {e.version: e for e in old.metadata.changelog}
    for entry in new.metadata.changelog:
        if entry.version not in old_log:
            add(Change("changelog", entry.version, "added", (Detail("changes", None, list(entry.changes)),)))
        elif entry != old_log[entry.version]:
            add(Change("changelog", entry.version, "changed", tuple(_value_details("", _dump(old_log[entry.version]), _dump(entry)))))

    for key, before, after in _matched("question", _by_id(old.questions), _by_id(new.questions)):
        if before is None or after is None:
            add(Change("question", key, "added" if before is None else "removed"))
            continue
        details = _value_details("", _dump(before.spec, ["ask_if"]), _dump(after.spec, ["ask_if"]))
        details = [_note_question(d) for d in details]
        condition = condition_change("ask_if", before.ask_if, old, after.ask_if, new)
        if condition:
            details.append(condition)
        if details:
            add(Change("question", key, "changed", tuple(details)))

    old_scores, new_scores = _by_id(old.scores), _by_id(new.scores)
    for key, before, after in _matched("score", old_scores, new_scores):
        if before is None or after is None:
            add(Change("score", key, "added" if before is None else "removed"))
            continue
        details = _value_details("", _dump(before.spec, ["items", "levels"]), _dump(after.spec, ["items", "levels"]))
        kept = [level for level in before.level_ids if level in after.level_ids]
        if kept != [level for level in after.level_ids if level in before.level_ids]:
            details.append(Detail("level order", list(before.level_ids), list(after.level_ids), "levels reordered: the level a score reaches, and level comparisons, change"))
        if details:
            add(Change("score", key, "changed", tuple(details)))
        for item_key, item_before, item_after in _matched("score_item", _by_id(i.spec for i in before.items), _by_id(i.spec for i in after.items)):
            full = f"{key}.{item_key}"
            if item_before is None or item_after is None:
                add(Change("score_item", full, "added" if item_before is None else "removed", _item_summary(item_after or item_before)))
                continue
            item_details = [_note_points(d) for d in _value_details("", _dump(item_before, ["when"]), _dump(item_after, ["when"]))]
            condition = condition_change("when", _item(before, item_key), old, _item(after, item_key), new)
            if condition:
                item_details.append(condition)
            if item_details:
                add(Change("score_item", full, "changed", tuple(item_details)))
        old_levels = {lv.id: lv for lv in before.spec.levels}
        new_levels = {lv.id: lv for lv in after.spec.levels}
        for level_key, level_before, level_after in _matched("level", old_levels, new_levels):
            full = f"{key}.{level_key}"
            if level_before is None or level_after is None:
                add(Change("level", full, "added" if level_before is None else "removed"))
                continue
            level_details = _value_details("", _dump(level_before, ["when"]), _dump(level_after, ["when"]))
            condition = condition_change("when", dict(before.levels)[level_key], old, dict(after.levels)[level_key], new)
            if condition:
                level_details.append(condition)
            if level_details:
                add(Change("level", full, "changed", tuple(level_details)))

    for key, before, after in _matched("service", _by_id(old.services.values()), _by_id(new.services.values())):
        if before is None or after is None:
            add(Change("service", key, "added" if before is None else "removed"))
            continue
        details = _value_details("", _dump(before), _dump(after))
        if details:
            add(Change("service", key, "changed", tuple(details)))

    if old.safety is not None or new.safety is not None:
        if old.safety is None or new.safety is None:
            status = "added" if old.safety is None else "removed"
            note = "the engine now defers consent referrals while it is not safe to talk" if status == "added" else "consent referrals are no longer deferred for safety"
            add(Change("safety", "safety", status, (Detail("safety", None, None, note),)))
        else:
            details = _value_details("", _dump(old.safety.spec, ["safe_to_talk"]), _dump(new.safety.spec, ["safe_to_talk"]))
            condition = condition_change("safe_to_talk", old.safety.condition, old, new.safety.condition, new)
            if condition:
                details.append(condition)
            if details:
                add(Change("safety", "safety", "changed", tuple(details)))

    for key, before, after in _matched("referral", _by_id(old.referrals), _by_id(new.referrals)):
        if before is None or after is None:
            rule = (after or before).spec
            add(Change("referral", key, "added" if before is None else "removed", (Detail("service", None, rule.service), Detail("mode", None, rule.mode), Detail("when", None, (after or before).condition.text))))
            continue
        details = [_note_mode(_note_priority(d)) for d in _value_details("", _dump(before.spec, ["when"]), _dump(after.spec, ["when"]))]
        condition = condition_change("when", before.condition, old, after.condition, new)
        if condition:
            details.append(condition)
        if details:
            add(Change("referral", key, "changed", tuple(details)))

    for key, before, after in _matched("information", _by_id(old.information), _by_id(new.information)):
        if before is None or after is None:
            add(Change("information", key, "added" if before is None else "removed", (Detail("legal_basis", None, list((after or before).spec.legal_basis)),)))
            continue
        details = _value_details("", _dump(before.spec, ["when"]), _dump(after.spec, ["when"]))
        condition = condition_change("when", before.condition, old, after.condition, new)
        if condition:
            details.append(condition)
        if details:
            add(Change("information", key, "changed", tuple(details)))
    return report


def _item(score: Any, item_id: str) -> CompiledCondition:
    return next(i.condition for i in score.items if i.spec.id == item_id)


def _item_summary(spec: Any) -> tuple[Detail, ...]:
    return (Detail("points", None, spec.points), Detail("critical", None, spec.critical))


def _note_points(detail: Detail) -> Detail:
    if detail.field == "points" and isinstance(detail.old, (int, float)) and isinstance(detail.new, (int, float)):
        delta = detail.new - detail.old
        return dataclasses.replace(detail, note=f"{'+' if delta > 0 else ''}{delta:g} points")
    return detail


def _note_priority(detail: Detail) -> Detail:
    if detail.field == "priority" and detail.old in PRIORITY_ORDER and detail.new in PRIORITY_ORDER:
        raised = PRIORITY_ORDER[detail.new] < PRIORITY_ORDER[detail.old]
        return dataclasses.replace(detail, note="priority raised" if raised else "priority lowered")
    return detail


_MODE_MEANING = {
    "report": "a report without the victim's consent",
    "opt_out": "a hand-over unless the victim objects",
    "opt_in": "a referral only with consent",
    "inform_only": "the victim gets the contact",
}


def _note_mode(detail: Detail) -> Detail:
    if detail.field == "mode" and detail.old in _MODE_MEANING and detail.new in _MODE_MEANING:
        return dataclasses.replace(detail, note=f"now {_MODE_MEANING[detail.new]} (was {_MODE_MEANING[detail.old]})")
    return detail


def _note_question(detail: Detail) -> Detail:
    if detail.field in ("min", "max") and isinstance(detail.old, (int, float)) and isinstance(detail.new, (int, float)):
        return dataclasses.replace(detail, note=f"bound {'raised' if detail.new > detail.old else 'lowered'} by {abs(detail.new - detail.old):g}")
    return detail


# -- rendering ----------------------------------------------------------------------------------

_STATUS_MARK = {"added": "+", "removed": "-", "changed": "~"}
_COLOURS = {"added": "\033[32m", "removed": "\033[31m", "changed": "\033[33m"}
_RESET = "\033[0m"


def _show(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def render_text(report: DiffReport, *, colour: bool = False) -> str:
    lines = [
        f"Changes from {report.old.country}@{report.old.version} ({report.old.sha256[:12]}) to {report.new.country}@{report.new.version} ({report.new.sha256[:12]})",
    ]
    if not report.changed:
        lines.append("No change in meaning.")
    for kind, changes in report.by_kind():
        lines.append("")
        lines.append(f"{KIND_TITLES[kind]}")
        for change in changes:
            mark = _STATUS_MARK[change.status]
            head = f"  {mark} {change.id} ({change.status})"
            lines.append(f"{_COLOURS[change.status]}{head}{_RESET}" if colour else head)
            for detail in change.details:
                if detail.note.startswith("text edited: "):
                    lines.append(f"      {detail.field}: {detail.note}")
                    continue
                if change.status == "changed":
                    lines.append(f"      {detail.field}: {_show(detail.old)} -> {_show(detail.new)}")
                else:
                    lines.append(f"      {detail.field}: {_show(detail.new)}")
                if detail.note:
                    lines.append(f"        ({detail.note})")
    return "\n".join(lines) + "\n"


def render_markdown(report: DiffReport) -> str:
    lines = [
        f"# Changes from {report.old.country}@{report.old.version} to {report.new.country}@{report.new.version}",
        "",
        f"- old: `{report.old.id}` {report.old.version}, sha256 `{report.old.sha256}`",
        f"- new: `{report.new.id}` {report.new.version}, sha256 `{report.new.sha256}`",
    ]
    if not report.changed:
        lines += ["", "No change in meaning."]
    for kind, changes in report.by_kind():
        lines += ["", f"## {KIND_TITLES[kind]}", ""]
        for change in changes:
            lines.append(f"- **{change.id}**: {change.status}")
            for detail in change.details:
                if detail.note.startswith("text edited: "):
                    lines.append(f"  - `{detail.field}`: {_md(detail.note)}")
                elif change.status == "changed":
                    lines.append(f"  - `{detail.field}`: {_md(detail.old)} → {_md(detail.new)}" + (f" — {_md_text(detail.note)}" if detail.note else ""))
                else:
                    lines.append(f"  - `{detail.field}`: {_md(detail.new)}")
    return "\n".join(lines) + "\n"


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|#&])")


def _md(value: Any) -> str:
    """A value in Markdown as written: short ones as code, long ones as text with every markup
    character escaped (so no text from a ruleset becomes a link, emphasis or raw HTML)."""
    text = " ".join(_show(value).split())
    if len(text) < 80:
        longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
        ticks = "`" * (longest + 1)
        return f"{ticks} {text} {ticks}" if longest or text.startswith("`") or text.endswith("`") else f"`{text}`"
    return _md_text(text)


def _md_text(text: str) -> str:
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def render_html_fragment(report: DiffReport) -> str:
    """The diff as an HTML fragment (sections with tables), for reports and the HTML format."""
    parts = []
    if not report.changed:
        parts.append("<p>No change in meaning.</p>")
    for kind, changes in report.by_kind():
        parts.append(f"<section><h3>{html.escape(KIND_TITLES[kind])}</h3>")
        parts.append('<table><thead><tr><th scope="col">Element</th><th scope="col">Change</th><th scope="col">Field</th><th scope="col">Before</th><th scope="col">After</th><th scope="col">What it means</th></tr></thead><tbody>')
        for change in changes:
            rows = change.details or (Detail(""),)
            for index, detail in enumerate(rows):
                element = f'<th scope="row" rowspan="{len(rows)}">{html.escape(change.id)}</th><td rowspan="{len(rows)}" class="{change.status}">{change.status}</td>' if index == 0 else ""
                edited = detail.note.startswith("text edited: ")
                before = "" if change.status != "changed" or edited else html.escape(_show(detail.old))
                after = html.escape(_show(detail.new)) if detail.field and not edited else ""
                parts.append(f"<tr>{element}<td>{html.escape(detail.field)}</td><td>{before}</td><td>{after}</td><td>{html.escape(detail.note)}</td></tr>")
        parts.append("</tbody></table></section>")
    return "\n".join(parts)


def render_html(report: DiffReport) -> str:
    title = f"Changes from {report.old.country}@{report.old.version} to {report.new.country}@{report.new.version}"
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>'
        + html.escape(title)
        + "</title><style>body{font-family:sans-serif;margin:2rem;color:#111}table{border-collapse:collapse;margin:1rem 0}"
        "th,td{border:1px solid #666;padding:.3rem .5rem;text-align:left;vertical-align:top}.added{color:#065f14}"
        ".removed{color:#8b0000}.changed{color:#6b4c00}</style></head><body><main><h1>"
        + html.escape(title)
        + "</h1>"
        + render_html_fragment(report)
        + "</main></body></html>\n"
    )


RENDERERS = {"text": render_text, "markdown": render_markdown, "json": lambda r: json.dumps(r.to_dict(), ensure_ascii=False, indent=2) + "\n", "html": render_html}
