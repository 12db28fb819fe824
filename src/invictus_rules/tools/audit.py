"""The audit report: one self-contained HTML file with both versions' identity and changelogs, the
semantic diff and, when cases are given, the impact analysis."""

from __future__ import annotations

import datetime as dt
from typing import Any

import jinja2
import markupsafe

from .._version import __version__
from ..compiled import CompiledRuleset
from ..texts import pick_text
from .diff import DiffReport, render_html_fragment
from .impact import ImpactReport

_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.PackageLoader("invictus_rules.tools", "report_templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)
_ENVIRONMENT.filters["english"] = lambda value: value if isinstance(value, str) else pick_text(value, "en", "en")


def render_audit_report(
    old: CompiledRuleset,
    new: CompiledRuleset,
    diff: DiffReport,
    impact: ImpactReport | None,
    *,
    impact_source: str = "",
    generated: dt.date,
) -> str:
    def identity(ruleset: CompiledRuleset) -> list[Any]:
        meta = ruleset.metadata
        return [
            meta.id,
            meta.country,
            meta.version,
            meta.status,
            meta.effective_from.isoformat() if meta.effective_from else "(not set: a draft)",
            meta.effective_until.isoformat() if meta.effective_until else "(open)",
            ruleset.digest,
            "; ".join(b if isinstance(b, str) else pick_text(b, "en", meta.default_language) for b in meta.legal_basis) or "(none)",
        ]

    labels = ["id", "country", "version", "status", "in force from", "in force until", "sha256", "legal basis"]
    rows = [(label, a, b) for label, a, b in zip(labels, identity(old), identity(new), strict=True)]
    old_versions = {entry.version for entry in old.metadata.changelog}
    template = _ENVIRONMENT.get_template("audit.html.j2")
    return template.render(
        old=diff.old,
        new=diff.new,
        identity=rows,
        changelogs=[
            (f"New in {new.metadata.version}", [e for e in new.metadata.changelog if e.version not in old_versions]),
            (f"History up to {old.metadata.version}", list(old.metadata.changelog)),
        ],
        diff=diff,
        diff_html=markupsafe.Markup(render_html_fragment(diff)),
        impact=impact.to_dict() if impact else None,
        impact_source=impact_source,
        generated=generated.isoformat(),
        engine_version=__version__,
    )
