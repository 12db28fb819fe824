"""invictus-rules: victim needs assessment, referral and information rules as versioned YAML.

Typical use::

    from invictus_rules import load_ruleset
    ruleset = load_ruleset("nl")
    assessment = ruleset.evaluate({"safe_to_talk": True, "crime_type": "assault"}, language="en")
    print(assessment.model_dump_json(indent=2))
"""

from ._version import __version__
from .answers import Answers
from .api import Ruleset, load_ruleset, load_ruleset_text
from .cases import Case
from .decisions import Decisions, ScoreDecision
from .errors import AnswersError, BatchError, CaseError, InvictusError, Location, Problem, RulesetError, RulesetNotFoundError
from .evaluate import Outcome
from .load import VersionInfo
from .model import Question, json_schema
from .record import DecisionRecord, Provenance, engine_build
from .registry import Registry
from .result import (
    Assessment,
    InformationResult,
    PendingResult,
    ReferralResult,
    RulesetRef,
    ScoreResult,
    Trace,
    TraceEntry,
)

__all__ = [
    "__version__",
    "Answers",
    "AnswersError",
    "Case",
    "CaseError",
    "Assessment",
    "BatchError",
    "DecisionRecord",
    "Decisions",
    "InformationResult",
    "InvictusError",
    "Location",
    "Outcome",
    "PendingResult",
    "Problem",
    "Provenance",
    "Question",
    "ReferralResult",
    "Registry",
    "Ruleset",
    "RulesetError",
    "RulesetNotFoundError",
    "RulesetRef",
    "ScoreDecision",
    "ScoreResult",
    "Trace",
    "TraceEntry",
    "engine_build",
    "VersionInfo",
    "json_schema",
    "load_ruleset",
    "load_ruleset_text",
]
