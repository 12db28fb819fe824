"""Semantic diff of two ruleset versions: what changed, element by element, in meaning.

Elements are matched by id and compared field by field. Conditions are compared as parsed trees
after normalisation (operands of ``and``/``or`` and list items in a fixed order, comparisons with the
value on the right), so reformatting or reordering is no change. A condition that differs only in a
number is reported as a threshold raised or lowered; any changed condition is judged broader,
narrower, equivalent or neither by the solver over every case, each direction with a case (answers
JSON) confirmed by the engine (:class:`~invictus_rules.tools.exact.Comparison`).

Beside the edits, the report lists the *effects on outcomes*: every rule, level, merged referral
(per service: referred, mode, priority) and question that some case decides differently, with that
case, or a proof that no case does. So a moved rule that changes a merged referral's mode, or an
added level that narrows an unchanged ``level(x) == "high"``, is reported even though the rule
itself did not change; and every edit that changes no outcome is listed as such.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import html
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..compiled import CompiledCondition, CompiledRuleset, CompiledScore
from ..expr.nodes import Arith, BoolOp, Call, Compare, ListLiteral, Literal, Negate, Node, Not, unparse
from ..model import PRIORITY_RANK
from ..outcome import Outcome
from ..result import RulesetRef, ruleset_ref
from . import smt
from .exact import Comparison, Effect
from .prose import describe

KINDS = ("metadata", "changelog", "order", "safety", "question", "score", "score_item", "level", "service", "referral", "information")
KIND_TITLES = {
    "metadata": "Metadata",
    "safety": "Safety (safe to talk, safe channels, emergency and silent routes)",
    "changelog": "Changelog",
    "order": "Order",
    "question": "Questions",
    "score": "Scores",
    "score_item": "Score indicators",
    "level": "Score levels",
    "service": "Services",
    "referral": "Referral rules",
    "information": "Information items",
}


@dataclass(frozen=True)
class Detail:
    """One field that changed. ``note`` says what the change means (e.g. 'threshold lowered by 2')."""

    field: str
    old: Any = None
    new: Any = None
    note: str = ""
    cases: tuple[tuple[str, Any], ...] = ()
    """(what the case shows, answers JSON) pairs: e.g. ("true under NEW, not under OLD", {...})."""
    words: tuple[str, ...] = ()
    """The old and new condition in plain words (the docs' prose), beside the rule as written."""


@dataclass(frozen=True)
class Change:
    kind: str
    id: str
    status: str  # added, removed, changed, renamed
    details: tuple[Detail, ...] = ()
    affects: tuple[tuple[str, str], ...] = ()
    """Outcomes (kind, id) besides its own that this change can move, e.g. a rule's service."""


@dataclass
class DiffReport:
    old: RulesetRef
    new: RulesetRef
    changes: list[Change] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
    as_of: dt.date | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.changes) or any(not e.verdict.proved for e in self.effects)

    @property
    def outcome_effects(self) -> list[Effect]:
        """Effects some case shows, or that could not be decided."""
        return [e for e in self.effects if not e.verdict.proved]

    def without_effect(self) -> list[Change]:
        """Edits that change no decision: texts, metadata, order, and elements whose outcomes the
        solver proves unchanged (a score's edits only when no outcome at all changed)."""
        proved = {(e.kind, e.id) for e in self.effects if e.verdict.proved}
        everything_proved = all(e.verdict.proved for e in self.effects)
        quiet = []
        for change in self.changes:
            if change.status in ("added", "removed", "renamed"):
                continue
            key = _effect_key(change)
            texts_only = all(_is_text_field(d.field) for d in change.details)
            if key is None or texts_only or everything_proved or (change.kind in ("referral", "information") and all(k in proved for k in (key, *change.affects))):
                quiet.append(change)
        return quiet

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
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "notes": self.notes,
            "changes": [
                {"kind": c.kind, "id": c.id, "status": c.status, "details": [_json_detail(d) for d in c.details]}
                for c in self.changes
            ],
            "effects": [
                {
                    "kind": e.kind,
                    "id": e.id,
                    "status": {"found": "changed", "proved": "unchanged (proved)", "undecided": "could not be decided"}[e.verdict.status],
                    **({"old": e.old, "new": e.new, "case": {"answers": e.verdict.case, "synthetic": True}, "confirmed_by_engine": e.verdict.confirmed} if e.verdict.found else {}),
                    **({"reason": e.verdict.reason} if e.verdict.status == "undecided" else {}),
                }
                for e in self.effects
            ],
            "without_effect_on_outcomes": [{"kind": c.kind, "id": c.id} for c in self.without_effect()],
        }


_TEXT_FIELDS = {"text", "help", "label", "title", "description", "name", "hours", "reason", "body", "notes", "basis", "legal_basis", "action", "advice", "source", "languages"}


def _is_text_field(name: str) -> bool:
    return name.split(".")[0] in _TEXT_FIELDS


def _effect_key(change: Change) -> tuple[str, str] | None:
    if change.kind in ("metadata", "changelog", "order"):
        return None
    if change.kind in ("score", "score_item", "level"):
        return ("level", change.id.split(".")[0])
    if change.kind == "question":
        return ("question", change.id)
    return (change.kind, change.id)


def _json_detail(detail: Detail) -> dict[str, Any]:
    found = {k: v for k, v in dataclasses.asdict(detail).items() if v not in (None, "", ()) and k not in ("cases", "words")}
    if detail.words:
        found["in_words"] = {"old": detail.words[0], "new": detail.words[1]}
    if detail.cases:
        found["cases"] = [{"shows": shows, "answers": case, "synthetic": True} for shows, case in detail.cases]
    return found


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
    if isinstance(node, (Not, Negate)):
        return type(node)(normalize(node.operand))
    if isinstance(node, Arith):
        return Arith(node.op, normalize(node.left), normalize(node.right))
    if isinstance(node, Call):
        return Call(node.function, tuple(normalize(a) for a in node.args))
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
        if isinstance(a, Compare) and isinstance(b, Compare):
            return a.op == b.op and same(a.left, b.left, a) and same(a.right, b.right, a)
        children_a = _children(a)
        children_b = _children(b)
        if len(children_a) != len(children_b) or _label(a) != _label(b):
            return False
        return all(same(x, y, None) for x, y in zip(children_a, children_b, strict=True))

    if not same(old, new, None) or not found:
        return None
    sides = [(left, op) for left, op, _, _ in found]
    # two changed numbers on the same comparison cannot be paired for sure: say nothing about them
    return found if len(sides) == len(set(sides)) else None


def _children(node: Node) -> tuple[Node, ...]:
    for name in ("operands", "items", "args"):
        if hasattr(node, name):
            return tuple(getattr(node, name))
    if isinstance(node, (Not, Negate)):
        return (node.operand,)
    if isinstance(node, (Compare, Arith)):
        return (node.left, node.right)
    return ()


def _label(node: Node) -> Any:
    return getattr(node, "op", None), getattr(node, "function", None), getattr(node, "id", None)


def _direction(op: str, old: float, new: float) -> str:
    delta = new - old
    amount = f"{abs(delta):g}"
    word = "lowered" if delta < 0 else "raised"
    return f"threshold {word} by {amount}"


Locate = tuple[Callable[[Outcome], Any], Callable[[Outcome], Any]]


def condition_change(
    field_name: str,
    old: CompiledCondition | None,
    old_rs: CompiledRuleset,
    new: CompiledCondition | None,
    new_rs: CompiledRuleset,
    comparison: Comparison | None = None,
    locate: Locate | None = None,
) -> Detail | None:
    """The change of one condition, or None when the solver proves its meaning did not change.

    Each direction found comes with a case (answers JSON), run through the engine to confirm it."""
    if old is None and new is None:
        return None
    if old is None or new is None:
        return Detail(field_name, old.text if old else None, new.text if new else None, "condition added" if old is None else "condition removed")
    old_norm, new_norm = normalize(old.node), normalize(new.node)
    if old_norm == new_norm:
        return None
    notes: list[str] = []
    thresholds = _thresholds(old_norm, new_norm)
    if thresholds:
        notes.extend(f"{left} {op} {a:g} -> {b:g}: {_direction(op, a, b)}" for left, op, a, b in thresholds)
    comparison = comparison or Comparison(old_rs, new_rs, new_rs.metadata.effective_from or dt.date.today())
    change = comparison.condition(old, new, locate)
    effect = change.effect
    notes.append({
        "broader": "broader: true in more cases",
        "narrower": "narrower: true in fewer cases",
        "equivalent": "no case is decided differently with the rest of this version (proved)" if thresholds else "same meaning, written differently (proved)",
        "neither": "neither broader nor narrower: true in some new cases and no longer in others",
        "undecided": "broader or narrower could not be decided" + (f" ({change.broader.reason or change.narrower.reason})" if (change.broader.reason or change.narrower.reason) else ""),
    }[effect])
    if effect == "equivalent" and not thresholds:
        return None
    cases = []
    for shows, verdict in (("true under NEW, not under OLD", change.broader), ("true under OLD, not under NEW", change.narrower)):
        if verdict.found:
            cases.append((shows + ("" if verdict.confirmed else " (NOT confirmed by the engine: an encoding bug, please report it)"), verdict.case))
    words: tuple[str, ...] = ()
    try:
        words = (describe(old.node, old_rs, old_rs.metadata.default_language), describe(new.node, new_rs, new_rs.metadata.default_language))
    except Exception:  # prose is a courtesy: a phrase it cannot word must not hide the change
        words = ()
    return Detail(field_name, old.text, new.text, "; ".join(notes), tuple(cases), words)


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
    """The words removed [-like this-] and added [+like this+], with a little context around each
    (square brackets: curly ones would run into the templates' own {{ }} and {% %})."""
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
            pieces.append("[+" + " ".join(b[j1:j2]) + "+]")
    if pieces and not pieces[-1].startswith(("[-", "[+")) and "…" not in pieces[-1]:
        words = pieces[-1].split()
        pieces[-1] = " ".join(words[:context]) + (" …" if len(words) > context else "")
    return " ".join(p for p in pieces if p)


def _dump(model: Any, exclude: Iterable[str] = ()) -> dict[str, Any]:
    dumped: dict[str, Any] = model.model_dump(mode="json", by_alias=True, exclude=set(exclude))
    return dumped


def _by_id(items: Iterable[Any]) -> dict[str, Any]:
    return {item.spec.id if hasattr(item, "spec") else item.id: item for item in items}


def _matched(kind: str, old: dict[str, Any], new: dict[str, Any]) -> Iterator[tuple[str, Any, Any]]:
    for key in old:
        yield key, old[key], new.get(key)
    for key in new:
        if key not in old:
            yield key, None, new[key]


def diff_rulesets(old: CompiledRuleset, new: CompiledRuleset, *, as_of: dt.date | None = None, timeout_ms: int = smt.DEFAULT_TIMEOUT_MS, effects: bool = True) -> DiffReport:
    """Everything that changed from ``old`` to ``new``, grouped by kind, in ruleset order, and every
    outcome some case decides differently. Dates in conditions are judged on ``as_of`` (default: the
    new version's effective_from)."""
    as_of = as_of or new.metadata.effective_from or dt.date.today()
    comparison = Comparison(old, new, as_of, timeout_ms)
    report = DiffReport(ruleset_ref(old), ruleset_ref(new), as_of=as_of)
    add = report.changes.append

    def changed_condition(field_name: str, before: CompiledCondition | None, after: CompiledCondition | None, locate: Locate | None) -> Detail | None:
        return condition_change(field_name, before, old, after, new, comparison, locate)

    meta_details = _value_details("", _dump(old.metadata, ["changelog"]), _dump(new.metadata, ["changelog"]))
    if meta_details:
        add(Change("metadata", old.metadata.id, "changed", tuple(meta_details)))
    report.notes.extend(_date_notes(old, new))
    old_log = {e.version: e for e in old.metadata.changelog}
    for entry in new.metadata.changelog:
        if entry.version not in old_log:
            add(Change("changelog", entry.version, "added", (Detail("changes", None, list(entry.changes)),)))
        elif entry != old_log[entry.version]:
            add(Change("changelog", entry.version, "changed", tuple(_value_details("", _dump(old_log[entry.version]), _dump(entry)))))
    for section, before_ids, after_ids in (
        ("questions", [q.spec.id for q in old.questions], [q.spec.id for q in new.questions]),
        ("scores", [s.spec.id for s in old.scores], [s.spec.id for s in new.scores]),
        ("services", list(old.services), list(new.services)),
        ("referrals", [r.spec.id for r in old.referrals], [r.spec.id for r in new.referrals]),
        ("information", [i.spec.id for i in old.information], [i.spec.id for i in new.information]),
    ):
        kept_before = [i for i in before_ids if i in after_ids]
        kept_after = [i for i in after_ids if i in before_ids]
        if kept_before != kept_after:
            note = {
                "questions": "the order in which questions are asked changed",
                "referrals": "rule order: it decides nothing for merged referrals (see effects on outcomes), but the order reasons are listed in may change",
            }.get(section, "listing order changed")
            add(Change("order", section, "changed", (Detail("order", kept_before, kept_after, note),)))

    old_q = {q.spec.id: (i, q) for i, q in enumerate(old.questions)}
    new_q = {q.spec.id: (i, q) for i, q in enumerate(new.questions)}
    for key, before, after in _matched("question", {k: v[1] for k, v in old_q.items()}, {k: v[1] for k, v in new_q.items()}):
        if before is None or after is None:
            spec = (after or before).spec
            add(Change("question", key, "added" if before is None else "removed", _question_summary(after or before)))
            continue
        details = _value_details("", _dump(before.spec, ["ask_if"]), _dump(after.spec, ["ask_if"]))
        details = [_note_question(d) for d in details]
        locate: Locate = (_element_at("asked", old_q[key][0]), _element_at("asked", new_q[key][0]))
        condition = changed_condition("ask_if", before.ask_if, after.ask_if, locate)
        if condition:
            details.append(condition)
        if details:
            add(Change("question", key, "changed", tuple(details)))

    old_scores, new_scores = _by_id(old.scores), _by_id(new.scores)
    old_score_index = {s.spec.id: i for i, s in enumerate(old.scores)}
    new_score_index = {s.spec.id: i for i, s in enumerate(new.scores)}
    for key, before, after in _matched("score", old_scores, new_scores):
        if before is None or after is None:
            add(Change("score", key, "added" if before is None else "removed", _score_summary(after or before)))
            continue
        details = [_note_override(d) for d in _value_details("", _dump(before.spec, ["items", "levels"]), _dump(after.spec, ["items", "levels"]))]
        kept = [level for level in before.level_ids if level in after.level_ids]
        if kept != [level for level in after.level_ids if level in before.level_ids]:
            details.append(Detail("level order", list(before.level_ids), list(after.level_ids), "levels reordered: the level a score reaches, and level comparisons, change"))
        if details:
            add(Change("score", key, "changed", tuple(details)))
        os_i, ns_i = old_score_index[key], new_score_index[key]
        old_items = {i.spec.id: n for n, i in enumerate(before.items)}
        new_items = {i.spec.id: n for n, i in enumerate(after.items)}
        for item_key, item_before, item_after in _matched("score_item", _by_id(i.spec for i in before.items), _by_id(i.spec for i in after.items)):
            full = f"{key}.{item_key}"
            if item_before is None or item_after is None:
                add(Change("score_item", full, "added" if item_before is None else "removed", _item_summary(item_after or item_before)))
                continue
            item_details = [_note_points(d) for d in _value_details("", _dump(item_before, ["when"]), _dump(item_after, ["when"]))]
            locate = (_score_item_at(os_i, old_items[item_key]), _score_item_at(ns_i, new_items[item_key]))
            condition = changed_condition("when", _item(before, item_key), _item(after, item_key), locate)
            if condition:
                item_details.append(condition)
            if item_details:
                add(Change("score_item", full, "changed", tuple(item_details)))
        old_levels = {lv.id: lv for lv in before.spec.levels}
        new_levels = {lv.id: lv for lv in after.spec.levels}
        for level_key, level_before, level_after in _matched("level", old_levels, new_levels):
            full = f"{key}.{level_key}"
            if level_before is None or level_after is None:
                spec = level_after or level_before
                summary = (Detail("when", None, dict((after if level_before is None else before).levels)[level_key].text if spec.when is not None else "(the lowest level: no condition)"),)
                add(Change("level", full, "added" if level_before is None else "removed", summary))
                continue
            level_details = _value_details("", _dump(level_before, ["when"]), _dump(level_after, ["when"]))
            old_level, new_level = before.level_ids.index(level_key), after.level_ids.index(level_key)
            locate = (
                _score_level_at(os_i, old_level),
                _score_level_at(ns_i, new_level),
            )
            condition = changed_condition("when", dict(before.levels)[level_key], dict(after.levels)[level_key], locate)
            if condition:
                level_details.append(condition)
            if level_details:
                add(Change("level", full, "changed", tuple(level_details)))

    for key, before, after in _matched("service", _by_id(old.services.values()), _by_id(new.services.values())):
        if before is None or after is None:
            add(Change("service", key, "added" if before is None else "removed", _service_summary(after or before)))
            continue
        details = [_note_contact(d) for d in _value_details("", _dump(before), _dump(after))]
        if details:
            add(Change("service", key, "changed", tuple(details)))

    if old.safety is not None or new.safety is not None:
        if old.safety is None or new.safety is None:
            status = "added" if old.safety is None else "removed"
            note = "the engine now defers consent referrals while it is not safe to talk" if status == "added" else "consent referrals are no longer deferred for safety"
            add(Change("safety", "safety", status, (Detail("safety", None, None, note),)))
        else:
            details = _value_details("", _dump(old.safety.spec, ["safe_to_talk"]), _dump(new.safety.spec, ["safe_to_talk"]))
            condition = changed_condition("safe_to_talk", old.safety.condition, new.safety.condition, (lambda out: out.safe, lambda out: out.safe))
            if condition:
                details.append(condition)
            if details:
                add(Change("safety", "safety", "changed", tuple(details)))

    old_r = {r.spec.id: i for i, r in enumerate(old.referrals)}
    new_r = {r.spec.id: i for i, r in enumerate(new.referrals)}
    for key, before, after in _matched("referral", _by_id(old.referrals), _by_id(new.referrals)):
        if before is None or after is None:
            add(Change("referral", key, "added" if before is None else "removed", _referral_summary(after or before)))
            continue
        details = [_note_mode(_note_priority(d)) for d in _value_details("", _dump(before.spec, ["when"]), _dump(after.spec, ["when"]))]
        locate = (_element_at("referrals", old_r[key]), _element_at("referrals", new_r[key]))
        condition = changed_condition("when", before.condition, after.condition, locate)
        if condition:
            details.append(condition)
        if details:
            services = tuple(dict.fromkeys((("service", before.spec.service), ("service", after.spec.service))))
            add(Change("referral", key, "changed", tuple(details), services))

    old_i = {r.spec.id: i for i, r in enumerate(old.information)}
    new_i = {r.spec.id: i for i, r in enumerate(new.information)}
    for key, before, after in _matched("information", _by_id(old.information), _by_id(new.information)):
        if before is None or after is None:
            item = after or before
            add(Change("information", key, "added" if before is None else "removed", (Detail("legal_basis", None, list(item.spec.legal_basis)), Detail("when", None, item.condition.text))))
            continue
        details = _value_details("", _dump(before.spec, ["when"]), _dump(after.spec, ["when"]))
        locate = (_element_at("information", old_i[key]), _element_at("information", new_i[key]))
        condition = changed_condition("when", before.condition, after.condition, locate)
        if condition:
            details.append(condition)
        if details:
            add(Change("information", key, "changed", tuple(details)))
    _find_renames(report, old, new)
    if effects:
        report.effects = comparison.effects()
    return report


def _date_notes(old: CompiledRuleset, new: CompiledRuleset) -> list[str]:
    """Gaps and overlaps between the two versions' effective dates."""
    notes = []
    old_until, new_from = old.metadata.effective_until, new.metadata.effective_from
    if old_until and new_from and new_from > old_until + dt.timedelta(days=1):
        notes.append(f"no version is in force from {(old_until + dt.timedelta(days=1)).isoformat()} to {(new_from - dt.timedelta(days=1)).isoformat()}: assessments on those dates find no ruleset")
    if old_until and new_from and new_from <= old_until:
        notes.append(f"both versions are in force from {new_from.isoformat()} to {old_until.isoformat()}")
    return notes


_RENAMABLE = {"question": "questions", "referral": "referrals", "information": "information", "service": "services", "score": "scores"}


def _find_renames(report: DiffReport, old: CompiledRuleset, new: CompiledRuleset) -> None:
    """An element removed and one added with the same content but a new id is a rename."""
    for kind, section in _RENAMABLE.items():
        removed = [c for c in report.changes if c.kind == kind and c.status == "removed"]
        added = [c for c in report.changes if c.kind == kind and c.status == "added"]
        if not removed or not added:
            continue
        old_data = {item["id"]: item for item in old.document.model_dump(mode="json", by_alias=True)[section]}
        new_data = {item["id"]: item for item in new.document.model_dump(mode="json", by_alias=True)[section]}
        for gone in removed:
            body = {k: v for k, v in old_data[gone.id].items() if k != "id"}
            match = next((c for c in added if {k: v for k, v in new_data[c.id].items() if k != "id"} == body), None)
            if match is None:
                continue
            added.remove(match)
            report.changes.remove(gone)
            index = report.changes.index(match)
            note = "same content under a new id"
            if kind == "question":
                note += f': stored cases that answer "{gone.id}" are now rejected (unknown question); conditions and texts must use "{match.id}"'
            report.changes[index] = Change(kind, match.id, "renamed", (Detail("id", gone.id, match.id, note),))


# Closures over one place each (mypy cannot type lambdas whose defaults bind two loop variables).
def _element_at(field: str, index: int) -> Callable[[Outcome], Any]:
    return lambda out: getattr(out, field)[index]


def _score_item_at(score: int, item: int) -> Callable[[Outcome], Any]:
    return lambda out: out.scores[score].items[item]


def _score_level_at(score: int, level: int) -> Callable[[Outcome], Any]:
    return lambda out: out.scores[score].levels[level]


def _item(score: CompiledScore, item_id: str) -> CompiledCondition:
    return next(i.condition for i in score.items if i.spec.id == item_id)


def _item_summary(spec: Any) -> tuple[Detail, ...]:
    return (Detail("when", None, spec.when if isinstance(spec.when, str) else json.dumps(_plain(spec.when))), Detail("points", None, spec.points), Detail("critical", None, spec.critical))


def _plain(value: Any) -> Any:
    return value.model_dump(mode="json", by_alias=True) if hasattr(value, "model_dump") else value


def _question_summary(question: Any) -> tuple[Detail, ...]:
    spec = question.spec
    details = [Detail("text", None, dict(spec.text)), Detail("type", None, spec.type)]
    if spec.options:
        details.append(Detail("options", None, [o.value for o in spec.options]))
    for bound in ("min", "max"):
        if getattr(spec, bound) is not None:
            details.append(Detail(bound, None, getattr(spec, bound)))
    details.append(Detail("ask_if", None, question.ask_if.text if question.ask_if else "(always asked)"))
    return tuple(details)


def _score_summary(score: Any) -> tuple[Detail, ...]:
    details = [Detail("items", None, [f"{i.spec.id}: {i.condition.text} ({i.spec.points:g} points{', critical' if i.spec.critical else ''})" for i in score.items])]
    details.append(Detail("levels", None, [f"{level}: {c.text if c else '(lowest, no condition)'}" for level, c in score.levels]))
    if score.override_question:
        details.append(Detail("override", None, score.override_question))
    return tuple(details)


def _service_summary(service: Any) -> tuple[Detail, ...]:
    return tuple(Detail(name, None, getattr(service, name)) for name in ("name", "category", "phone", "url", "email") if getattr(service, name, None) is not None)


def _referral_summary(rule: Any) -> tuple[Detail, ...]:
    spec = rule.spec
    return (
        Detail("service", None, spec.service),
        Detail("when", None, rule.condition.text),
        Detail("priority", None, spec.priority),
        Detail("mode", None, spec.mode, MODE_MEANING.get(spec.mode, "")),
    )


MODE_MEANING = {
    "inform_only": "the victim gets the contact and decides",
    "opt_in": "referred only with the victim's consent",
    "opt_out": "handed over unless the victim objects",
    "report": "reported without consent, as the law requires or allows",
}


def _note_mode(detail: Detail) -> Detail:
    if detail.field == "mode" and detail.old in MODE_MEANING and detail.new in MODE_MEANING:
        return dataclasses.replace(detail, note=f"who decides changed: before, {MODE_MEANING[detail.old]}; now, {MODE_MEANING[detail.new]}")
    return detail


def _note_override(detail: Detail) -> Detail:
    if detail.field.startswith("override"):
        return dataclasses.replace(detail, note="the professional override changed: which answer can raise the level")
    return detail


def _note_contact(detail: Detail) -> Detail:
    if detail.field in ("phone", "url", "email"):
        return dataclasses.replace(detail, note="contact details changed: referral letters and caseworker materials that show them must be updated")
    return detail


def _note_points(detail: Detail) -> Detail:
    if detail.field == "critical":
        return dataclasses.replace(detail, note="now counts toward critical()" if detail.new else "no longer counts toward critical()")
    if detail.field == "points" and isinstance(detail.old, (int, float)) and isinstance(detail.new, (int, float)):
        delta = detail.new - detail.old
        return dataclasses.replace(detail, note=f"{'+' if delta > 0 else ''}{delta:g} points")
    return detail


def _note_priority(detail: Detail) -> Detail:
    if detail.field == "priority" and detail.old in PRIORITY_RANK and detail.new in PRIORITY_RANK:
        raised = PRIORITY_RANK[detail.new] < PRIORITY_RANK[detail.old]
        return dataclasses.replace(detail, note="priority raised" if raised else "priority lowered")
    return detail


def _note_question(detail: Detail) -> Detail:
    if detail.field in ("min", "max") and isinstance(detail.old, (int, float)) and isinstance(detail.new, (int, float)):
        return dataclasses.replace(detail, note=f"bound {'raised' if detail.new > detail.old else 'lowered'} by {abs(detail.new - detail.old):g}")
    return detail


# -- rendering ----------------------------------------------------------------------------------

_STATUS_MARK = {"added": "+", "removed": "-", "changed": "~", "renamed": ">"}
_COLOURS = {"added": "\033[32m", "removed": "\033[31m", "changed": "\033[33m", "renamed": "\033[36m"}
_RESET = "\033[0m"


def _show(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _case_json(case: Any) -> str:
    return json.dumps(case, ensure_ascii=False, sort_keys=True)


def render_text(report: DiffReport, *, colour: bool = False) -> str:
    lines = [
        f"Changes from {report.old.country}@{report.old.version} ({report.old.sha256[:12]}) to {report.new.country}@{report.new.version} ({report.new.sha256[:12]})",
    ]
    if report.as_of:
        lines.append(f"Cases judged on {report.as_of.isoformat()}; every case shown is synthetic (made by the solver), run through the engine.")
    for note in report.notes:
        lines.append(f"Note: {note}")
    if report.old.sha256 == report.new.sha256:
        lines.append("Identical content: both versions have the same hash of the canonical form (only layout or comments can differ).")
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
                if change.status in ("changed", "renamed"):
                    lines.append(f"      {detail.field}: {_show(detail.old)} -> {_show(detail.new)}")
                else:
                    lines.append(f"      {detail.field}: {_show(detail.new)}")
                if detail.words:
                    lines.append(f"        in words, before: {detail.words[0]}")
                    lines.append(f"        in words, now:    {detail.words[1]}")
                if detail.note:
                    lines.append(f"        ({detail.note})")
                for shows, case in detail.cases:
                    lines.append(f"        {shows}, e.g. {_case_json(case)}")
    if report.effects:
        lines.append("")
        lines.append("Effects on outcomes (over every case; each case found is confirmed by the engine)")
        shown = report.outcome_effects
        for effect in shown:
            mark = "~" if effect.verdict.found else "?"
            lines.append(f"  {mark} {effect.kind} {effect.id}: {effect.describe()}")
            if effect.verdict.found:
                lines.append(f"      case: {_case_json(effect.verdict.case)}")
        proved = len(report.effects) - len(shown)
        lines.append(f"  {proved} of {len(report.effects)} rules, levels, merged referrals and questions decide every case as before (proved)")
        quiet = report.without_effect()
        if quiet:
            lines.append("")
            lines.append("Changes without effect on outcomes")
            for change in quiet:
                lines.append(f"  {change.kind} {change.id}")
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
                for shows, case in detail.cases:
                    lines.append(f"    - {shows}, e.g. `{_case_json(case)}`")
    if report.effects:
        lines += ["", "## Effects on outcomes", ""]
        for effect in report.outcome_effects:
            lines.append(f"- {effect.kind} **{effect.id}**: {effect.describe()}" + (f" — case `{_case_json(effect.verdict.case)}`" if effect.verdict.found else ""))
        lines.append(f"- {len(report.effects) - len(report.outcome_effects)} of {len(report.effects)} rules, levels, merged referrals and questions decide every case as before (proved)")
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
    if report.effects:
        parts.append("<section><h3>Effects on outcomes</h3><p>Over every case; each case is synthetic (made by the solver) and confirmed by the engine.</p><ul>")
        for effect in report.outcome_effects:
            case = f" <code>{html.escape(_case_json(effect.verdict.case))}</code>" if effect.verdict.found else ""
            parts.append(f"<li>{html.escape(effect.kind)} <strong>{html.escape(effect.id)}</strong>: {html.escape(effect.describe())}{case}</li>")
        parts.append(f"<li>{len(report.effects) - len(report.outcome_effects)} of {len(report.effects)} rules, levels, merged referrals and questions decide every case as before (proved)</li></ul></section>")
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


RENDERERS: dict[str, Callable[[DiffReport], str]] = {"text": render_text, "markdown": render_markdown, "json": lambda r: json.dumps(r.to_dict(), ensure_ascii=False, indent=2) + "\n", "html": render_html}
