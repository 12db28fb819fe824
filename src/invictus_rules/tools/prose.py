"""Conditions in plain words: ``describe(node, ruleset, language) -> str``.

A condition's syntax tree is turned into a sentence in one language, using the ruleset's own
question texts, option labels, score titles and level labels instead of ids, e.g.
``crime_type in ["domestic_violence", "stalking"]`` -> *the answer to “What happened?” is
“Domestic violence” or “Stalking”*. Connectives and comparisons come from a small phrase table per
language (``PHRASES``); a language without a table gets English phrasing around the ruleset's texts.

The sentence is a paraphrase for readers (policy staff, lawyers, auditors), not a canonical form:
``not (q == "x")`` and ``q != "x"`` read the same, though they differ for a question that is not
asked. Tools that need the exact rule show ``CompiledCondition.text`` beside the prose.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..compiled import CompiledRuleset
from ..expr.language import FUNCTIONS, OPERATORS, Function, mirror, negation
from ..expr.nodes import Arith, BoolOp, Call, Compare, ListLiteral, Literal, Name, Negate, Node, Not, format_literal, unparse
from ..texts import pick_text

Phrases = Mapping[str, str]

WORDS = frozenset({"yes", "no", "always", "never", "answer", "open_quote", "close_quote"})
"""The phrase keys that belong to no operator or function (values, a question's answer, quotes);
every other key is named by an entry of expr.language (``prose``, ``prose_kinds``, ``prose_forms``)."""

PHRASES: dict[str, dict[str, str]] = {
    "en": {
        "and": "and", "or": "or", "all_of": "all of these:", "any_of": "at least one of these:", "not": "it is not the case that {x}", "always": "always", "never": "never",
        "yes": "yes", "no": "no", "answer": "the answer to {q}", "is": "{s} is {v}", "is_not": "{s} is not {v}",
        "one_of": "one of {v}", "includes": "{s} includes {v}", "excludes": "{s} does not include {v}",
        ">=": "at least {v}", ">": "more than {v}", "<=": "at most {v}", "<": "less than {v}", "exactly": "exactly {v}",
        "on_or_after": "on or after {v}", "after": "after {v}", "on_or_before": "on or before {v}", "before": "before {v}",
        "or_higher": "{v} or higher", "higher": "higher than {v}", "or_lower": "{v} or lower", "lower": "lower than {v}",
        "answered": "{q} was answered", "not_answered": "{q} was not answered", "declined": "the victim declined to answer {q}",
        "count_true": "{n} of these are true: {items}", "count_conditions": "the number of these that are true: {items}",
        "count_options": "the number of options chosen for {q}", "score": "the score of {s}",
        "critical": "the number of critical indicators present in {s}", "level": "the level of {s}",
        "days_since": "the number of days since the date given for {q}",
        "years_since": "the number of whole years since the date given for {q}",
        "+": "{a} plus {b}", "-": "{a} minus {b}", "*": "{a} times {b}", "/": "{a} divided by {b}", "negative": "minus {a}",
        "open_quote": "“", "close_quote": "”",
    },
    "nl": {
        "and": "en", "or": "of", "all_of": "al het volgende:", "any_of": "minstens één van het volgende:", "not": "het is niet zo dat {x}", "always": "altijd", "never": "nooit",
        "yes": "ja", "no": "nee", "answer": "het antwoord op {q}", "is": "{s} is {v}", "is_not": "{s} is niet {v}",
        "one_of": "een van {v}", "includes": "{s} bevat {v}", "excludes": "{s} bevat niet {v}",
        ">=": "minstens {v}", ">": "meer dan {v}", "<=": "hoogstens {v}", "<": "minder dan {v}", "exactly": "precies {v}",
        "on_or_after": "op of na {v}", "after": "na {v}", "on_or_before": "op of vóór {v}", "before": "vóór {v}",
        "or_higher": "{v} of hoger", "higher": "hoger dan {v}", "or_lower": "{v} of lager", "lower": "lager dan {v}",
        "answered": "{q} is beantwoord", "not_answered": "{q} is niet beantwoord", "declined": "het slachtoffer wilde {q} niet beantwoorden",
        "count_true": "{n} hiervan zijn waar: {items}", "count_conditions": "het aantal hiervan dat waar is: {items}",
        "count_options": "het aantal gekozen antwoorden op {q}", "score": "de score van {s}",
        "critical": "het aantal aanwezige kritieke indicatoren van {s}", "level": "het niveau van {s}",
        "days_since": "het aantal dagen sinds de datum bij {q}",
        "years_since": "het aantal hele jaren sinds de datum bij {q}",
        "+": "{a} plus {b}", "-": "{a} min {b}", "*": "{a} maal {b}", "/": "{a} gedeeld door {b}", "negative": "min {a}",
        "open_quote": "“", "close_quote": "”",
    },
    "bg": {
        "and": "и", "or": "или", "all_of": "всички от следните:", "any_of": "поне едно от следните:", "not": "не е вярно, че {x}", "always": "винаги", "never": "никога",
        "yes": "да", "no": "не", "answer": "отговорът на {q}", "is": "{s} е {v}", "is_not": "{s} не е {v}",
        "one_of": "един от {v}", "includes": "{s} включва {v}", "excludes": "{s} не включва {v}",
        ">=": "поне {v}", ">": "повече от {v}", "<=": "най-много {v}", "<": "по-малко от {v}", "exactly": "точно {v}",
        "on_or_after": "на или след {v}", "after": "след {v}", "on_or_before": "на или преди {v}", "before": "преди {v}",
        "or_higher": "{v} или по-високо", "higher": "по-високо от {v}", "or_lower": "{v} или по-ниско", "lower": "по-ниско от {v}",
        "answered": "на {q} е отговорено", "not_answered": "на {q} не е отговорено", "declined": "пострадалият отказа да отговори на {q}",
        "count_true": "{n} от следните са верни: {items}", "count_conditions": "броят на верните от следните: {items}",
        "count_options": "броят на избраните отговори на {q}", "score": "точките по {s}",
        "critical": "броят на наличните критични показатели в {s}", "level": "нивото на {s}",
        "days_since": "броят дни от датата, посочена в отговор на {q}",
        "years_since": "броят на пълните години от датата, посочена в отговор на {q}",
        "+": "{a} плюс {b}", "-": "{a} минус {b}", "*": "{a} по {b}", "/": "{a} делено на {b}", "negative": "минус {a}",
        "open_quote": "„", "close_quote": "“",
    },
    "hr": {
        "and": "i", "or": "ili", "all_of": "sve od sljedećeg:", "any_of": "barem jedno od sljedećeg:", "not": "nije točno da {x}", "always": "uvijek", "never": "nikad",
        "yes": "da", "no": "ne", "answer": "odgovor na {q}", "is": "{s} je {v}", "is_not": "{s} nije {v}",
        "one_of": "jedno od {v}", "includes": "{s} uključuje {v}", "excludes": "{s} ne uključuje {v}",
        ">=": "najmanje {v}", ">": "više od {v}", "<=": "najviše {v}", "<": "manje od {v}", "exactly": "točno {v}",
        "on_or_after": "{v} ili kasnije", "after": "nakon {v}", "on_or_before": "{v} ili ranije", "before": "prije {v}",
        "or_higher": "{v} ili viša", "higher": "viša od {v}", "or_lower": "{v} ili niža", "lower": "niža od {v}",
        "answered": "na {q} je odgovoreno", "not_answered": "na {q} nije odgovoreno", "declined": "žrtva je odbila odgovoriti na {q}",
        "count_true": "{n} od sljedećeg je točno: {items}", "count_conditions": "broj točnih od sljedećeg: {items}",
        "count_options": "broj odabranih odgovora na {q}", "score": "bodovi za {s}",
        "critical": "broj prisutnih kritičnih pokazatelja za {s}", "level": "razina za {s}",
        "days_since": "broj dana od datuma navedenog u odgovoru na {q}",
        "years_since": "broj punih godina od datuma navedenog u odgovoru na {q}",
        "+": "{a} plus {b}", "-": "{a} minus {b}", "*": "{a} puta {b}", "/": "{a} podijeljeno s {b}", "negative": "minus {a}",
        "open_quote": "„", "close_quote": "“",
    },
    "fi": {
        "and": "ja", "or": "tai", "all_of": "kaikki seuraavista:", "any_of": "vähintään yksi seuraavista:", "not": "ei pidä paikkaansa, että {x}", "always": "aina", "never": "ei koskaan",
        "yes": "kyllä", "no": "ei", "answer": "vastaus kysymykseen {q}", "is": "{s} on {v}", "is_not": "{s} ei ole {v}",
        "one_of": "jokin seuraavista: {v}", "includes": "{s} sisältää vaihtoehdon {v}", "excludes": "{s} ei sisällä vaihtoehtoa {v}",
        ">=": "vähintään {v}", ">": "yli {v}", "<=": "enintään {v}", "<": "alle {v}", "exactly": "täsmälleen {v}",
        "on_or_after": "{v} tai myöhemmin", "after": "myöhemmin kuin {v}", "on_or_before": "{v} tai aiemmin", "before": "aiemmin kuin {v}",
        "or_higher": "{v} tai korkeampi", "higher": "korkeampi kuin {v}", "or_lower": "{v} tai matalampi", "lower": "matalampi kuin {v}",
        "answered": "kysymykseen {q} on vastattu", "not_answered": "kysymykseen {q} ei ole vastattu", "declined": "uhri kieltäytyi vastaamasta kysymykseen {q}",
        "count_true": "{n} seuraavista pitää paikkansa: {items}", "count_conditions": "paikkansa pitävien lukumäärä seuraavista: {items}",
        "count_options": "kysymykseen {q} valittujen vaihtoehtojen lukumäärä", "score": "mittarin {s} pisteet",
        "critical": "mittarin {s} kriittisten tekijöiden lukumäärä", "level": "mittarin {s} taso",
        "days_since": "päivien lukumäärä kysymykseen {q} annetusta päivämäärästä",
        "years_since": "täysien vuosien lukumäärä kysymykseen {q} annetusta päivämäärästä",
        "+": "{a} plus {b}", "-": "{a} miinus {b}", "*": "{a} kertaa {b}", "/": "{a} jaettuna luvulla {b}", "negative": "miinus {a}",
        "open_quote": "”", "close_quote": "”",
    },
    "sv": {
        "and": "och", "or": "eller", "all_of": "allt detta:", "any_of": "minst ett av följande:", "not": "det är inte så att {x}", "always": "alltid", "never": "aldrig",
        "yes": "ja", "no": "nej", "answer": "svaret på {q}", "is": "{s} är {v}", "is_not": "{s} är inte {v}",
        "one_of": "ett av {v}", "includes": "{s} innehåller {v}", "excludes": "{s} innehåller inte {v}",
        ">=": "minst {v}", ">": "mer än {v}", "<=": "högst {v}", "<": "mindre än {v}", "exactly": "exakt {v}",
        "on_or_after": "{v} eller senare", "after": "efter {v}", "on_or_before": "{v} eller tidigare", "before": "före {v}",
        "or_higher": "{v} eller högre", "higher": "högre än {v}", "or_lower": "{v} eller lägre", "lower": "lägre än {v}",
        "answered": "{q} har besvarats", "not_answered": "{q} har inte besvarats", "declined": "brottsoffret avböjde att svara på {q}",
        "count_true": "{n} av dessa stämmer: {items}", "count_conditions": "antalet av dessa som stämmer: {items}",
        "count_options": "antalet valda svar på {q}", "score": "poängen för {s}",
        "critical": "antalet kritiska indikatorer som finns för {s}", "level": "nivån för {s}",
        "days_since": "antalet dagar sedan datumet i svaret på {q}",
        "years_since": "antalet hela år sedan datumet i svaret på {q}",
        "+": "{a} plus {b}", "-": "{a} minus {b}", "*": "{a} gånger {b}", "/": "{a} delat med {b}", "negative": "minus {a}",
        "open_quote": "”", "close_quote": "”",
    },
    "fr": {
        "and": "et", "or": "ou", "all_of": "toutes les conditions suivantes :", "any_of": "au moins une des conditions suivantes :", "not": "il n’est pas vrai que {x}", "always": "toujours", "never": "jamais",
        "yes": "oui", "no": "non", "answer": "la réponse à {q}", "is": "{s} est {v}", "is_not": "{s} n’est pas {v}",
        "one_of": "l’une des valeurs {v}", "includes": "{s} comprend {v}", "excludes": "{s} ne comprend pas {v}",
        ">=": "au moins {v}", ">": "plus de {v}", "<=": "au plus {v}", "<": "moins de {v}", "exactly": "exactement {v}",
        "on_or_after": "le {v} ou après", "after": "après le {v}", "on_or_before": "le {v} ou avant", "before": "avant le {v}",
        "or_higher": "{v} ou plus élevé", "higher": "plus élevé que {v}", "or_lower": "{v} ou moins élevé", "lower": "moins élevé que {v}",
        "answered": "{q} a reçu une réponse", "not_answered": "{q} n’a pas reçu de réponse", "declined": "la victime a refusé de répondre à {q}",
        "count_true": "{n} des conditions suivantes sont remplies : {items}", "count_conditions": "le nombre de conditions remplies parmi : {items}",
        "count_options": "le nombre de réponses choisies à {q}", "score": "le score {s}",
        "critical": "le nombre d’indicateurs critiques présents dans {s}", "level": "le niveau {s}",
        "days_since": "le nombre de jours depuis la date indiquée en réponse à {q}",
        "years_since": "le nombre d’années révolues depuis la date indiquée en réponse à {q}",
        "+": "{a} plus {b}", "-": "{a} moins {b}", "*": "{a} fois {b}", "/": "{a} divisé par {b}", "negative": "moins {a}",
        "open_quote": "« ", "close_quote": " »",
    },
    "it": {
        "and": "e", "or": "o", "all_of": "tutte le condizioni seguenti:", "any_of": "almeno una delle condizioni seguenti:", "not": "non è vero che {x}", "always": "sempre", "never": "mai",
        "yes": "sì", "no": "no", "answer": "la risposta a {q}", "is": "{s} è {v}", "is_not": "{s} non è {v}",
        "one_of": "una tra {v}", "includes": "{s} comprende {v}", "excludes": "{s} non comprende {v}",
        ">=": "almeno {v}", ">": "più di {v}", "<=": "al massimo {v}", "<": "meno di {v}", "exactly": "esattamente {v}",
        "on_or_after": "il {v} o dopo", "after": "dopo il {v}", "on_or_before": "il {v} o prima", "before": "prima del {v}",
        "or_higher": "{v} o superiore", "higher": "superiore a {v}", "or_lower": "{v} o inferiore", "lower": "inferiore a {v}",
        "answered": "{q} ha ricevuto risposta", "not_answered": "{q} non ha ricevuto risposta", "declined": "la vittima ha preferito non rispondere a {q}",
        "count_true": "{n} delle seguenti condizioni sono vere: {items}", "count_conditions": "il numero di condizioni vere tra: {items}",
        "count_options": "il numero di risposte scelte per {q}", "score": "il punteggio di {s}",
        "critical": "il numero di indicatori critici presenti in {s}", "level": "il livello di {s}",
        "days_since": "il numero di giorni dalla data indicata in risposta a {q}",
        "years_since": "il numero di anni compiuti dalla data indicata in risposta a {q}",
        "+": "{a} più {b}", "-": "{a} meno {b}", "*": "{a} per {b}", "/": "{a} diviso {b}", "negative": "meno {a}",
        "open_quote": "«", "close_quote": "»",
    },
    "pt": {
        "and": "e", "or": "ou", "all_of": "todas as condições seguintes:", "any_of": "pelo menos uma das condições seguintes:", "not": "não é verdade que {x}", "always": "sempre", "never": "nunca",
        "yes": "sim", "no": "não", "answer": "a resposta a {q}", "is": "{s} é {v}", "is_not": "{s} não é {v}",
        "one_of": "uma das opções {v}", "includes": "{s} inclui {v}", "excludes": "{s} não inclui {v}",
        ">=": "pelo menos {v}", ">": "mais de {v}", "<=": "no máximo {v}", "<": "menos de {v}", "exactly": "exatamente {v}",
        "on_or_after": "em {v} ou depois", "after": "depois de {v}", "on_or_before": "em {v} ou antes", "before": "antes de {v}",
        "or_higher": "{v} ou superior", "higher": "superior a {v}", "or_lower": "{v} ou inferior", "lower": "inferior a {v}",
        "answered": "{q} foi respondida", "not_answered": "{q} não foi respondida", "declined": "a vítima recusou responder a {q}",
        "count_true": "{n} das seguintes condições são verdadeiras: {items}", "count_conditions": "o número de condições verdadeiras entre: {items}",
        "count_options": "o número de opções escolhidas em {q}", "score": "a pontuação de {s}",
        "critical": "o número de indicadores críticos presentes em {s}", "level": "o nível de {s}",
        "days_since": "o número de dias desde a data indicada em resposta a {q}",
        "years_since": "o número de anos completos desde a data indicada em resposta a {q}",
        "+": "{a} mais {b}", "-": "{a} menos {b}", "*": "{a} vezes {b}", "/": "{a} dividido por {b}", "negative": "menos {a}",
        "open_quote": "«", "close_quote": "»",
    },
}

# How an ordering reads, by the kind of value compared (the count quantifier uses the number row):
# the ``prose_kinds`` of the operators' entries in expr.language.
_ORDER_PHRASES = {
    kind: {name: entry.prose_kinds[kind] for name, entry in OPERATORS.items() if kind in entry.prose_kinds}
    for kind in ("number", "date", "level")
}
_QUESTION_KINDS = {"boolean": "bool", "integer": "number", "number": "number", "single_choice": "choice",
                   "multiple_choice": "set", "date": "date", "text": "text"}


def phrases_for(language: str) -> Phrases:
    """The phrase table of a language, or the English one when the language has none."""
    return PHRASES.get(language, PHRASES["en"])


def describe(condition_node: Node, ruleset: CompiledRuleset, language: str) -> str:
    """The condition in plain words in ``language``, with the ruleset's texts in that language."""
    return _Describer(ruleset, language).condition(condition_node)


@dataclass(frozen=True)
class Outline:
    """A condition laid out for reading: a sentence, or a heading ("all of these:") over its parts."""

    text: str
    parts: tuple[Outline, ...] = ()


def outline(condition_node: Node, ruleset: CompiledRuleset, language: str) -> Outline:
    """The condition as a sentence, or, when its and/or groups nest or run long, as a tree of sentences."""
    describer = _Describer(ruleset, language)
    if not _is_complex(condition_node):
        return Outline(describer.condition(condition_node))
    return _outline(condition_node, describer)


def _is_complex(node: Node) -> bool:
    return isinstance(node, BoolOp) and (len(node.operands) > 2 or any(isinstance(o, BoolOp) for o in node.operands))


def _outline(node: Node, describer: _Describer) -> Outline:
    if not isinstance(node, BoolOp):
        return Outline(describer.condition(node))
    heading = describer.words[OPERATORS[node.op].prose_forms["list"]]
    return Outline(heading, tuple(_outline(operand, describer) for operand in node.operands))


class _Describer:
    """Describes the nodes of one ruleset's conditions in one language."""

    def __init__(self, ruleset: CompiledRuleset, language: str):
        self.ruleset = ruleset
        self.language = language
        self.default = ruleset.metadata.default_language
        self.words = phrases_for(language)
        self.questions = ruleset.question_index
        self.scores = {score.spec.id: score.spec for score in ruleset.scores}

    # -- small helpers ------------------------------------------------------------------------
    def say(self, key: str, **parts: str) -> str:
        return self.words[key].format(**parts)

    def quote(self, text: str) -> str:
        return f"{self.words['open_quote']}{text}{self.words['close_quote']}"

    def text(self, texts: Mapping[str, str] | None, fallback: str) -> str:
        return pick_text(texts, self.language, self.default) or fallback

    def question(self, question_id: str) -> str:
        question = self.questions.get(question_id)
        return self.quote(self.text(question.text if question else None, question_id))

    def score_title(self, node: Node) -> str:
        score_id = node.id if isinstance(node, Name) else ""
        score = self.scores.get(score_id)
        return self.quote(self.text(score.title if score else None, score_id))

    def join_or(self, items: list[str]) -> str:
        if len(items) == 1:
            return items[0]
        return ", ".join(items[:-1]) + f" {self.words[OPERATORS['or'].prose]} " + items[-1]

    def kind(self, node: Node) -> str:
        """The kind of value a node stands for: bool, number, choice, set, date, text, level, string, list."""
        if isinstance(node, Name):
            question = self.questions.get(node.id)
            return _QUESTION_KINDS[question.type] if question else "text"
        if isinstance(node, Literal):
            value = node.value
            if isinstance(value, bool):
                return "bool"
            return "number" if isinstance(value, (int, float)) else "date" if isinstance(value, dt.date) else "string"
        if isinstance(node, Call):
            function = FUNCTIONS.get(node.function)
            return function.result if function is not None else "bool"
        if isinstance(node, (Arith, Negate)):
            return "number"
        return "list" if isinstance(node, ListLiteral) else "bool"

    # -- conditions (yes/no positions) ----------------------------------------------------------
    def condition(self, node: Node) -> str:
        return _handler(node, _CONDITIONS, _TERMS)(self, node)

    def literal_condition(self, node: Literal) -> str:
        if isinstance(node.value, bool):
            return self.words["always"] if node.value else self.words["never"]
        return self.term(node)

    def name_condition(self, node: Name) -> str:
        if self.kind(node) != "bool":
            return self.term(node)
        return self.say(OPERATORS["=="].prose, s=self.term(node), v=self.words["yes"])

    def not_condition(self, node: Not) -> str:
        inner = node.operand
        if isinstance(inner, Not):
            return self.condition(inner.operand)
        if isinstance(inner, Literal) and isinstance(inner.value, bool):
            return self.literal_condition(Literal(not inner.value))
        if isinstance(inner, Name) and self.kind(inner) == "bool":
            return self.say(OPERATORS["!="].prose, s=self.term(inner), v=self.words["yes"])
        reads_as = negation(inner.op) if isinstance(inner, Compare) else None
        if isinstance(inner, Compare) and reads_as is not None:
            return self.comparison(inner.left, reads_as, inner.right)
        if isinstance(inner, Call) and "negated" in FUNCTIONS[inner.function].prose_forms:
            return self.say(FUNCTIONS[inner.function].prose_forms["negated"], q=_question_of(self, inner))
        return self.say(OPERATORS["not"].prose, x=self.grouped(inner))

    def bool_op(self, node: BoolOp) -> str:
        joiner = f" {self.words[OPERATORS[node.op].prose]} "
        return joiner.join(self.grouped(operand) for operand in node.operands)

    def grouped(self, node: Node) -> str:
        """A condition inside a larger one: and/or groups and counted lists get parentheses, so the reading is unambiguous."""
        text = self.condition(node)
        counted = isinstance(node, Compare) and self.quantifies(node.left, node.op, node.right)
        return f"({text})" if isinstance(node, BoolOp) or counted else text

    def compare(self, node: Compare) -> str:
        return self.comparison(node.left, node.op, node.right)

    def comparison(self, left: Node, op: str, right: Node) -> str:
        swapped = mirror(op)
        if isinstance(left, Literal) and not isinstance(right, (Literal, ListLiteral)) and swapped is not None:
            left, op, right = right, swapped, left
        if op in ("in", "not in"):
            return self.membership(left, op, right)
        if self.quantifies(left, op, right):
            return self.count_quantifier(left, op, right)
        subject, value = self.term(left), self.value(right, like=left)
        if op in ("==", "!="):
            return self.say(OPERATORS[op].prose, s=subject, v=value)
        order = _ORDER_PHRASES.get(self.kind(left), _ORDER_PHRASES["number"])
        return self.say(OPERATORS[op].prose, s=subject, v=self.say(order[op], v=value))

    def membership(self, left: Node, op: str, right: Node) -> str:
        entry = OPERATORS[op]
        if self.kind(right) == "set":
            return self.say(entry.prose_kinds["set"], s=self.term(right), v=self.value(left, like=right))
        if isinstance(right, ListLiteral):
            items = [self.value(item, like=left) for item in right.items]
            listed = self.join_or(items)
            if len(items) > 2 or (len(items) == 2 and op == "not in"):
                listed = self.say(entry.prose_kinds["list"], v=listed)
        else:
            listed = self.term(right)
        return self.say(entry.prose, s=self.term(left), v=listed)

    def quantifies(self, left: Node, op: str, right: Node) -> bool:
        """Whether a comparison counts true conditions against a number, e.g. ``count(a, b, c) >= 2``."""
        counts_conditions = isinstance(left, Call) and left.function == "count" and not (
            len(left.args) == 1 and self.kind(left.args[0]) == "set"
        )
        return counts_conditions and op in _ORDER_PHRASES["number"] and isinstance(right, Literal) and self.kind(right) == "number"

    def count_quantifier(self, left: Node, op: str, right: Node) -> str:
        """``count(a, b, c) >= 2`` reads "at least 2 of these are true: a; b; c"."""
        assert isinstance(left, Call)
        amount = self.say(_ORDER_PHRASES["number"][op], v=self.value(right, like=left))
        return self.say(FUNCTIONS[left.function].prose_forms["quantified"], n=amount, items="; ".join(self.grouped(arg) for arg in left.args))

    # -- values (noun phrases) ------------------------------------------------------------------
    def term(self, node: Node) -> str:
        return _handler(node, _TERMS, _CONDITIONS)(self, node)

    def literal_term(self, node: Literal) -> str:
        return self.value(node, like=None)

    def list_term(self, node: ListLiteral) -> str:
        return self.join_or([self.term(item) for item in node.items])

    def name_term(self, node: Name) -> str:
        return self.say("answer", q=self.question(node.id))

    def negate_term(self, node: Negate) -> str:
        return self.say(OPERATORS["neg"].prose, a=self.operand(node.operand))

    def arith_term(self, node: Arith) -> str:
        return self.say(OPERATORS[node.op].prose, a=self.operand(node.left), b=self.operand(node.right))

    def operand(self, node: Node) -> str:
        text = self.term(node)
        return f"({text})" if isinstance(node, Arith) else text

    def call(self, node: Call) -> str:
        describe_call = FUNCTION_PHRASES.get(node.function)
        if describe_call is None:  # unreachable for checked conditions; never crash on a new function
            return unparse(node)
        return describe_call(self, node)

    def value(self, node: Node, *, like: Node | None) -> str:
        """A value written in a condition, in the words of what it is compared with (option or level labels)."""
        if not isinstance(node, Literal):
            return self.term(node)
        value = node.value
        if isinstance(value, bool):
            return self.words["yes"] if value else self.words["no"]
        if isinstance(value, str):
            return self.quote(self.label(value, like))
        return format_literal(value)

    def label(self, value: str, like: Node | None) -> str:
        if isinstance(like, Name) and like.id in self.questions:
            options = {o.value: o.label for o in self.questions[like.id].options or ()}
            return self.text(options.get(value), value)
        if isinstance(like, Call) and like.function == "level" and like.args:
            score = self.scores.get(getattr(like.args[0], "id", ""))
            levels = {level.id: level.label for level in score.levels} if score else {}
            return self.text(levels.get(value), value)
        return value


def _question_of(describer: _Describer, node: Call) -> str:
    arg = node.args[0] if node.args else None
    return describer.question(arg.id) if isinstance(arg, Name) else describer.term(arg) if arg else ""


def _count(function: Function) -> Callable[[_Describer, Call], str]:
    def describe_count(describer: _Describer, node: Call) -> str:
        if len(node.args) == 1 and describer.kind(node.args[0]) == "set":
            return describer.say(function.prose_forms["choices"], q=_question_of(describer, node))
        items = "; ".join(describer.grouped(arg) for arg in node.args)
        return describer.say(function.prose, items=items)

    return describe_count


def _about_question(function: Function) -> Callable[[_Describer, Call], str]:
    return lambda describer, node: describer.say(function.prose, q=_question_of(describer, node))


def _about_score(function: Function) -> Callable[[_Describer, Call], str]:
    return lambda describer, node: describer.say(function.prose, s=describer.score_title(node.args[0]) if node.args else "")


# How a call reads, by what the function takes (``Function.argument``); its words are its ``prose``
# key (and its ``prose_forms``).
_BY_ARGUMENT: dict[str, Callable[[Function], Callable[[_Describer, Call], str]]] = {
    "question": _about_question,
    "score": _about_score,
    "conditions": _count,
}


def _phrase(function: Function) -> Callable[[_Describer, Call], str]:
    return _BY_ARGUMENT[function.argument](function)


# One reading per function of the condition language (expr.language.FUNCTIONS).
FUNCTION_PHRASES: dict[str, Callable[[_Describer, Call], str]] = {name: _phrase(function) for name, function in FUNCTIONS.items()}

Handler = Callable[[_Describer, Any], str]  # keyed by node class: each gets the subclass it names


def _handler(node: Node, preferred: dict[type, Handler], other: dict[type, Handler]) -> Handler:
    """How to read a node where a condition (or a value) is expected; the other reading if it has none."""
    handler = preferred.get(type(node)) or other.get(type(node))
    if handler is None:
        raise TypeError(f"not a condition node: {node!r}")
    return handler


_CONDITIONS: dict[type, Handler] = {
    Literal: _Describer.literal_condition,
    Name: _Describer.name_condition,
    Not: _Describer.not_condition,
    BoolOp: _Describer.bool_op,
    Compare: _Describer.compare,
    Call: _Describer.call,
}
_TERMS: dict[type, Handler] = {
    Literal: _Describer.literal_term,
    ListLiteral: _Describer.list_term,
    Name: _Describer.name_term,
    Negate: _Describer.negate_term,
    Arith: _Describer.arith_term,
    Call: _Describer.call,
}

__all__ = ["FUNCTION_PHRASES", "PHRASES", "WORDS", "Outline", "describe", "outline", "phrases_for"]
