"""Every template that shows typed text passes it through ``free_text:user`` (SPEC §1; the decision
2026-12-05-free-text-masked).  The page crawl plants numbers and reads what it reaches; this reads
every template, so a page the crawl does not reach (a 补办 page with its home check recorded: a
review found its 核实人 shown whole) is held to the same rule."""

from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
# the names of the fields (and context values) that hold text typed by households, cadres and staff
TYPED = (
    "notes|visitors|home_visitors|home_checked_by|description|progress_notes|opinion|rejection_reason|"
    "decision_reason|county_review_reason|county_review_note|judgement|address|note|reason|close_reason|text|"
    "responsible_name|responsible_unit|file_name|e.value|e.message"
)
SHOWN = re.compile(r"\{\{\s*([\w.]*?\b(?:" + TYPED + r"))\s*(\|[^}]*)?\}\}")
# shown as they are, and why: texts fanpin writes itself, not typed ones
GENERATED = {
    "r.reason": "the 公示/公告 lists' reason: risk types and rules in words (lead_reason, ELIMINATION_REASONS)",
    "t.note": "a dashboard table's fixed footnote",
    "note": "the lead page's notes beside its 办理 buttons (held_notes: why a step waits), fanpin's words",
    "close_reason": "the county's own text, back in its input after an error (only county staff close)",
}


def test_typed_text_is_shown_through_the_free_text_filter() -> None:
    unfiltered = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for match in SHOWN.finditer(line):
                name, filters = match.group(1), match.group(2) or ""
                if name.startswith(("form.", "field.")) or name in GENERATED or "free_text" in filters:
                    continue
                unfiltered.append(f"{path.relative_to(TEMPLATES)}:{number}: {match.group(0)}")
    assert not unfiltered, "typed text shown without |free_text:user:\n" + "\n".join(unfiltered)
