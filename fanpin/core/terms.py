"""The glossary: the words that name the monitored population, set per deployment (SPEC §2.1).

The transition period ended in 2025; from 2026 policy speaks of 防止返贫致贫. A deployment chooses its
term set with ``FANPIN_TERMS`` (``"2026"``, the default, or ``"2020"``); every label, export header and
message that names the population takes its words from here, so no label is written twice:

- Python: ``term("target")`` → 防止返贫致贫对象 / 监测对象 (``term_lazy`` for strings built at import,
  such as form labels and choices);
- templates: ``{{ terms.target }}``, ``{{ terms.monitoring }}``, ``{{ terms.scope }}`` (the context
  processor ``fanpin.web.context_processors.glossary``).

Compound labels are composed where they are used (``{{ terms.target }}名单``, ``term("target") + "数"``).
Words that are the same in both sets (纳入监测, 监测标准, 监测户 …) are not terms; see
docs/decisions/2026-12-03-terms-glossary.md.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.functional import lazy

DEFAULT_TERM_SET = "2026"


def _term_set(*, target: str, monitoring: str, scope: str, short: str) -> Mapping[str, str]:
    return MappingProxyType(
        {
            "target": target,  # the households identified for monitoring (SPEC §2.1)
            "monitoring": monitoring,  # the mechanism; "{monitoring}对象" is the formal name in notices
            "scope": scope,  # the line and rules that bring a household in (纳入{scope})
            "system": f"{monitoring}和帮扶系统",  # the product's name: page titles, the brand, the API
            "short": short,  # the brand where the bar is narrow
        }
    )


TERM_SETS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        # 国开发〔2020〕6号, the transition period 2020–2025
        "2020": _term_set(target="监测对象", monitoring="防止返贫监测", scope="监测范围", short="防返贫监测"),
        # 常态化防止返贫致贫机制, from 2026
        "2026": _term_set(
            target="防止返贫致贫对象",
            monitoring="防止返贫致贫监测",
            scope="防止返贫致贫监测范围",
            short="防返贫致贫",
        ),
    }
)

# Proper names that keep their words whatever the term set (the national hotline 12317 is named so).
PROPER_NAMES = ("全国防止返贫监测和乡村振兴咨询服务平台",)

TERM_KEYS = tuple(TERM_SETS[DEFAULT_TERM_SET])


def term_set_name() -> str:
    """The deployment's term set (``settings.FANPIN_TERMS``); a value other than "2020"/"2026" is an error
    (the system check ``fanpin.E101`` reports it at start-up)."""
    name = str(getattr(settings, "FANPIN_TERMS", DEFAULT_TERM_SET)).strip()
    if name not in TERM_SETS:
        raise ImproperlyConfigured(f"FANPIN_TERMS must be one of {', '.join(sorted(TERM_SETS))}, not {name!r}")
    return name


def terms() -> Mapping[str, str]:
    """Every term of the deployment's set, by key (what templates get as ``terms``)."""
    return TERM_SETS[term_set_name()]


def term(key: str) -> str:
    """The deployment's word for ``key`` ("target", "monitoring", "scope"); an unknown key raises KeyError."""
    return terms()[key]


def other_terms() -> tuple[str, ...]:
    """The words of the term set not in use, which no page should show (the glossary crawl test)."""
    current = term_set_name()
    words = {word for name, words in TERM_SETS.items() if name != current for word in words.values()}
    return tuple(sorted(words, key=len, reverse=True))


def leftover_terms(text: str) -> list[str]:
    """The words of the other term set(s) found in ``text``, after the current set's own words are taken out
    (防止返贫致贫监测范围 contains 监测范围, which is no leftover). Under 2020 any 防止返贫致贫 is a leftover."""
    current = TERM_SETS[term_set_name()]
    for word in (*PROPER_NAMES, *sorted(current.values(), key=len, reverse=True)):
        text = text.replace(word, "")
    foreign = set(other_terms())
    if term_set_name() == "2020":
        foreign.add("防止返贫致贫")
    return sorted(word for word in foreign if word in text)


_FROZEN_SET = "2020"
_FROZEN_WORDS = re.compile(
    "|".join(re.escape(w) for w in sorted(TERM_SETS[_FROZEN_SET].values(), key=len, reverse=True))
)


def termed(text: str) -> str:
    """``text`` written with the 2020 words in the deployment's words.  For labels frozen in migrations (model
    and field verbose names, choices such as ExportKind's 监测对象): they keep the words of the tables' history
    and are shown through this (``{{ job.get_kind_display|termed }}``).  One pass: nothing is replaced twice."""
    words = terms()
    by_word = {word: words[key] for key, word in TERM_SETS[_FROZEN_SET].items()}
    return _FROZEN_WORDS.sub(lambda match: by_word[match.group(0)], str(text))


def model_names_termed() -> None:
    """Models' verbose names holding a 2020 word (MonitoringTarget: 监测对象) in the deployment's words wherever
    Django shows them (the admin, content types).  Only the runtime options change: the migrations read the
    declared ones (``_meta.original_attrs``), so no migration follows.  Called once, from CoreConfig.ready."""
    from django.apps import apps

    for model in apps.get_models():
        options = model._meta
        for name in ("verbose_name", "verbose_name_plural"):
            value = getattr(options, name)
            if isinstance(value, str) and _FROZEN_WORDS.search(value):
                setattr(options, name, termed_lazy(value))


# For labels evaluated at import (form fields, choices, column declarations): the word is looked up when the
# label is rendered, so a deployment (or a test) that switches FANPIN_TERMS needs no reload.
term_lazy = lazy(term, str)
termed_lazy = lazy(termed, str)
