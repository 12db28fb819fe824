"""Small random rulesets and a brute-force reference evaluator, for the oracle properties.

``random_ruleset`` writes a valid ruleset over a fixed pool of questions (yes/no, a whole number, a
fraction, a single and a multiple choice, a date; some behind an ``ask_if``), one score whose
indicators may be worth fractions of a point and whose lowest level may have a condition, an
optional override, and random referral and information rules. Each question has a small finite
domain, so every case (or every completion of a partial case) can be enumerated.

``reference`` evaluates one *complete* assignment with plain two-valued logic, written from the
documented semantics only (README, "Unanswered questions"), not from the engine's code.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from invictus_rules import Ruleset, load_ruleset_text
from invictus_rules.expr.nodes import Arith, BoolOp, Call, Compare, ListLiteral, Literal, Name, Negate, Node, Not
from invictus_rules.expr.values import age_in_years

AS_OF = dt.date(2026, 3, 1)
ABSENT = "<absent>"
LEVELS = ("lo", "mid", "hi")

DOMAINS: dict[str, list[Any]] = {
    "b1": [True, False],
    "b2": [True, False],
    "n1": [0, 1, 2, 3],
    "f1": [0, 0.5, 1, 2],
    "c1": ["a", "b", "c"],
    "m1": [frozenset(s) for r in range(3) for s in itertools.combinations(("x", "y"), r)],
    "d1": [AS_OF, AS_OF - dt.timedelta(days=7), AS_OF - dt.timedelta(days=8), dt.date(2008, 3, 1), dt.date(2008, 3, 2)],
    "o1": list(LEVELS),
    "sc": [frozenset(s) for r in range(3) for s in itertools.combinations(("phone", "sms"), r)],
}
SPECS: dict[str, dict[str, Any]] = {
    "b1": {"type": "boolean"},
    "b2": {"type": "boolean"},
    "n1": {"type": "integer", "min": 0, "max": 3},
    "f1": {"type": "number", "min": 0, "max": 2},
    "c1": {"type": "single_choice", "options": ["a", "b", "c"]},
    "m1": {"type": "multiple_choice", "options": ["x", "y"]},
    "d1": {"type": "date"},
    "sc": {"type": "multiple_choice", "options": ["phone", "sms"]},
}


@dataclass
class Generated:
    ruleset: Ruleset
    questions: list[str]


def _atoms(questions: list[str], with_score: bool, levels: int) -> list[str]:
    atoms: list[str] = []
    pool = {
        "b1": ["b1", "not b1", "b1 == true"],
        "b2": ["b2", "not b2"],
        "n1": ["n1 >= 2", "n1 + 1 < 3", "n1 / 2 <= 1", "n1 in [1, 2]", "n1 not in [0]", "n1 * 2 == 4", "n1 - 1 in [0, 1, 2]"],
        "f1": ["f1 > 0.5", "f1 in [0.5, 1]", "f1 not in [0, 2]", "f1 * 2 >= 2"],
        "c1": ['c1 == "a"', 'c1 != "b"', 'c1 in ["a", "b"]', 'c1 not in ["c"]'],
        "m1": ['"x" in m1', '"y" not in m1', "count(m1) >= 1", "count(m1) in [1]", "count(m1) / 2 in [1]"],
        "d1": ["days_since(d1) <= 7", "years_since(d1) >= 18", "d1 < 2026-01-01"],
    }
    for question in questions:
        atoms.extend(pool.get(question, []))
        if question != "o1":
            atoms.extend([f"answered({question})", f"declined({question})"])
    booleans = [q for q in questions if q in ("b1", "b2")]
    if len(booleans) == 2:
        atoms.extend(["count(b1, b2) >= 1", "count(b1, b2) in [1]"])
    if with_score:
        atoms.extend(["score(s1) >= 2", "score(s1) in [1, 1.5, 2]", "score(s1) / 2 in [1]", "critical(s1) >= 1", "critical(s1) in [1]", "score(s1) + 1 > 2.5"])
        names = LEVELS[:levels]
        atoms.extend([f'level(s1) == "{names[-1]}"', f'level(s1) in ["{names[-1]}"]', f'level(s1) not in ["{names[0]}"]', f'level(s1) >= "{names[1]}"', f'level(s1) != "{names[0]}"'])
    return atoms


def _condition(rng: random.Random, atoms: list[str], depth: int = 2) -> str:
    if depth == 0 or rng.random() < 0.4:
        return rng.choice(atoms)
    roll = rng.random()
    if roll < 0.2:
        return f"not ({_condition(rng, atoms, depth - 1)})"
    op = "and" if roll < 0.6 else "or"
    return f"({_condition(rng, atoms, depth - 1)}) {op} ({_condition(rng, atoms, depth - 1)})"


def _text(en: str) -> dict[str, str]:
    return {"en": en}


def random_document(rng: random.Random, *, dates: bool = True, fractions: bool = True) -> dict[str, Any]:
    """A random ruleset document (plain data); some have a safety section (deferral by the engine)."""
    pool = ["b1", "b2", "n1", "c1", "m1"] + (["d1"] if dates else []) + (["f1"] if fractions else [])
    chosen = sorted(rng.sample(pool, rng.randint(2, 4)), key=pool.index)
    with_safety = rng.random() < 0.4
    if with_safety:
        chosen.append("sc")
    questions: list[dict[str, Any]] = []
    for question in chosen:
        spec = dict(SPECS[question])
        entry: dict[str, Any] = {"id": question, "type": spec["type"], "text": _text(question)}
        if "options" in spec:
            entry["options"] = [{"value": v, "label": _text(v)} for v in spec["options"]]
        for bound in ("min", "max"):
            if bound in spec:
                entry[bound] = spec[bound]
        if question != chosen[0] and rng.random() < 0.35:
            earlier = [q for q in chosen[: chosen.index(question)]]
            entry["ask_if"] = _condition(rng, _atoms(earlier, False, 0), 0)
        questions.append(entry)
    levels = rng.randint(2, 3)
    with_score = rng.random() < 0.8
    scores = []
    if with_score:
        item_atoms = _atoms(chosen, False, 0)
        points = [1, 2, 3, -1] + ([0.5, 1.5] if fractions else [])
        items = [
            {"id": f"i{k}", "label": _text(f"i{k}"), "when": _condition(rng, item_atoms, 1), "points": rng.choice(points), "critical": rng.random() < 0.4}
            for k in range(rng.randint(1, 3))
        ]
        level_list: list[dict[str, Any]] = []
        for rank, name in enumerate(LEVELS[:levels]):
            level: dict[str, Any] = {"id": name, "label": _text(name)}
            if rank > 0 or rng.random() < 0.5:
                level["when"] = rng.choice(
                    ["score(s1) >= 0.5", "score(s1) >= 1", "score(s1) >= 2", "score(s1) >= 3", "critical(s1) >= 1", "score(s1) >= 2 or critical(s1) >= 1", "score(s1) > 1.5"]
                    + (["b1"] if "b1" in chosen else [])
                )
            level_list.append(level)
        score: dict[str, Any] = {"id": "s1", "title": _text("s1"), "items": items, "levels": level_list}
        if rng.random() < 0.3:
            options = list(LEVELS[:levels])
            questions.append({"id": "o1", "type": "single_choice", "text": _text("o1"), "options": [{"value": v, "label": _text(v)} for v in options]})
            chosen.append("o1")
            score["override"] = {"question": "o1"}
        scores.append(score)
    atoms = _atoms(chosen, with_score, levels)
    modes = ["inform_only", "opt_in", "opt_out"] + (["report"] if with_safety else [])
    referrals = []
    for k in range(rng.randint(1, 4)):
        rule = {
            "id": f"r{k}",
            "service": rng.choice(["h1", "h2"]),
            "when": _condition(rng, atoms),
            "priority": rng.choice(["immediate", "urgent", "standard"]),
            "mode": rng.choice(modes),
            "reason": _text("reason"),
        }
        if rule["mode"] == "report":
            rule["legal_basis"] = ["test"]
            rule["action"] = _text("report it")
        referrals.append(rule)
    information = [
        {"id": f"n{k}", "legal_basis": ["test"], "when": _condition(rng, atoms), "title": _text("t"), "body": _text("b")}
        for k in range(rng.randint(0, 2))
    ]
    services = [
        {"id": "h1", "category": "general_support", "name": _text("h1"), "phone": "1"},
        {"id": "h2", "category": "general_support", "name": _text("h2"), "phone": "2"},
    ]
    extra: dict[str, Any] = {}
    if with_safety:
        services[0]["first_contact"] = "phone"
        services[1]["first_contact"] = rng.choice(["sms", ["phone", "sms"]])
        services.append({"id": "e1", "category": "emergency", "name": _text("e1"), "phone": "112", "first_contact": "none"})
        plain = [q for q in chosen if q not in ("sc", "o1")]
        extra["safety"] = {"safe_to_talk": rng.choice(["true", *_atoms(plain, False, 0)]), "safe_channels": "sc", "emergency": ["e1"], "silent": [], "advice": _text("advice")}
    return {
        **extra,
        "format": "invictus-rules/v1",
        "metadata": {
            "id": "random",
            "country": "xx",
            "version": "2026.1",
            "effective_from": "2026-01-01",
            "status": "draft",
            "languages": ["en"],
            "default_language": "en",
            "title": _text("random"),
        },
        "questions": questions,
        "scores": scores,
        "services": services,
        "referrals": referrals,
        "information": information,
    }


def load_document(document: dict[str, Any]) -> Ruleset:
    return load_ruleset_text(json.dumps(document), file="random.yaml")


def random_ruleset(rng: random.Random, **kwargs: Any) -> Generated:
    document = random_document(rng, **kwargs)
    return Generated(load_document(document), [q["id"] for q in document["questions"]])


def answer_json(value: Any) -> Any:
    if isinstance(value, frozenset):
        return sorted(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


# -- the reference evaluator --------------------------------------------------------------------


class Reference:
    """Two-valued evaluation of one complete assignment, from the documented semantics.

    ``values`` holds a value for every question (the hypothetical answer); ``answered`` and
    ``declined`` are the states recorded in the case, which ``answered()`` and ``declined()`` read.
    """

    def __init__(self, ruleset: Ruleset, values: dict[str, Any], answered: set[str], declined: set[str], as_of: dt.date = AS_OF):
        self.compiled = ruleset.compiled
        self.values = dict(values)
        self.answered = answered
        self.declined = declined
        self.as_of = as_of
        self.scores: dict[str, float] = {}
        self.criticals: dict[str, int] = {}
        self.levels: dict[str, int | None] = {}
        self.asked: dict[str, bool] = {}
        for question_id in self.compiled.ask_order:
            question = self.compiled.question_by_id[question_id]
            shown = True if question.ask_if is None else self.condition(question.ask_if.node)
            self.asked[question_id] = shown
            if not shown:
                self.values[question_id] = ABSENT
        for score in self.compiled.scores:
            items = [self.condition(item.condition.node) for item in score.items]
            self.scores[score.spec.id] = sum(item.spec.points for item, hit in zip(score.items, items, strict=True) if hit)
            self.criticals[score.spec.id] = sum(1 for item, hit in zip(score.items, items, strict=True) if hit and item.spec.critical)
            reached = [rank for rank, (_, cond) in enumerate(score.levels) if cond is None or self.condition(cond.node)]
            level = max(reached) if reached else None
            if score.override_question is not None:
                chosen = self.values.get(score.override_question)
                if chosen in score.level_ids and score.override_question in answered:
                    override = score.level_ids.index(chosen)
                    level = override if level is None else max(level, override)
            self.levels[score.spec.id] = level
            self.item_results = items
        self.referrals = [self.condition(rule.condition.node) for rule in self.compiled.referrals]
        self.information = [self.condition(item.condition.node) for item in self.compiled.information]

    def condition(self, node: Node) -> bool:
        if isinstance(node, Literal):
            return bool(node.value)
        if isinstance(node, Name):
            return self.values[node.id] is True
        if isinstance(node, Not):
            return not self.condition(node.operand)
        if isinstance(node, BoolOp):
            parts = [self.condition(o) for o in node.operands]
            return all(parts) if node.op == "and" else any(parts)
        if isinstance(node, Compare):
            return self.compare(node)
        if isinstance(node, Call) and node.function in ("answered", "declined"):
            question = node.args[0].id  # type: ignore[union-attr]
            if self.values[question] is ABSENT:
                return False
            return question in (self.answered if node.function == "answered" else self.declined)
        raise AssertionError(node)

    def compare(self, node: Compare) -> bool:
        if isinstance(node.left, Call) and node.left.function == "level":
            rank = self.levels[node.left.args[0].id]  # type: ignore[union-attr]
            if rank is None:
                return False
            ranks = {level: index for index, level in enumerate(self.level_ids(node.left))}
            if node.op in ("in", "not in"):
                wanted = {ranks[item.value] for item in node.right.items}  # type: ignore[union-attr]
                return (rank in wanted) == (node.op == "in")
            return _RELATIONS[node.op](rank, ranks[node.right.value])  # type: ignore[union-attr]
        left = self.value(node.left)
        right = self.value(node.right)
        if left is ABSENT or right is ABSENT:
            return False
        if node.op in ("in", "not in"):
            inside = left in right
            return inside if node.op == "in" else not inside
        return _RELATIONS[node.op](left, right)

    def level_ids(self, call: Call) -> tuple[str, ...]:
        score_id = call.args[0].id  # type: ignore[union-attr]
        return next(s.level_ids for s in self.compiled.scores if s.spec.id == score_id)

    def value(self, node: Node) -> Any:
        if isinstance(node, Literal):
            return node.value
        if isinstance(node, ListLiteral):
            return {item.value for item in node.items}  # type: ignore[union-attr]
        if isinstance(node, Name):
            return self.values[node.id]
        if isinstance(node, Negate):
            inner = self.value(node.operand)
            return inner if inner is ABSENT else -inner
        if isinstance(node, Arith):
            a, b = self.value(node.left), self.value(node.right)
            if a is ABSENT or b is ABSENT:
                return ABSENT
            return {"+": a + b, "-": a - b, "*": a * b, "/": a / b if node.op == "/" else 0}[node.op]
        if isinstance(node, Call):
            name = node.function
            if name == "count":
                if len(node.args) == 1 and isinstance(node.args[0], Name) and self.compiled.question_by_id[node.args[0].id].spec.type == "multiple_choice":
                    chosen = self.values[node.args[0].id]
                    return 0 if chosen is ABSENT else len(chosen)
                return sum(1 for arg in node.args if self.condition(arg))
            key = node.args[0].id  # type: ignore[union-attr]
            if name == "score":
                return self.scores[key]
            if name == "critical":
                return self.criticals[key]
            value = self.values[key]
            if value is ABSENT:
                return ABSENT
            if name == "days_since":
                return (self.as_of - value).days
            if name == "years_since":
                return age_in_years(value, self.as_of)
        if isinstance(node, (Compare, BoolOp, Not)):
            return self.condition(node)
        raise AssertionError(node)


_RELATIONS = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def domain(document: dict[str, Any], question: str) -> list[Any]:
    """The values tried for a question of ``document``."""
    if question == "o1":
        spec = next(q for q in document["questions"] if q["id"] == "o1")
        return [option["value"] for option in spec["options"]]
    return DOMAINS[question]


def completions(document: dict[str, Any], questions: list[str], fixed: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every assignment that keeps ``fixed`` and gives each other question a value of its domain."""
    open_ids = [q for q in questions if q not in fixed]
    for combination in itertools.product(*(domain(document, q) for q in open_ids)):
        yield {**fixed, **dict(zip(open_ids, combination, strict=True))}
