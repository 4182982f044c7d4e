"""Issue 19 item 1: the terms are a deployment setting (fanpin.core.terms, FANPIN_TERMS, default 2026)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.checks import Error, run_checks
from django.core.exceptions import ImproperlyConfigured
from django.template.loader import render_to_string
from django.urls import reverse

from assistance.services.exports import headers
from fanpin.core.checks import term_set
from fanpin.core.terms import DEFAULT_TERM_SET, leftover_terms, term, term_lazy, termed, terms
from monitoring.forms_review import ConfirmForm
from monitoring.models import MonitoringTarget, NoticeKind
from monitoring.services.exports_leads import target_columns
from monitoring.services.notices.templates import notice_text
from tests.conftest import World

WORDS = {
    "2020": {"target": "监测对象", "monitoring": "防止返贫监测", "scope": "监测范围"},
    "2026": {"target": "防止返贫致贫对象", "monitoring": "防止返贫致贫监测", "scope": "防止返贫致贫监测范围"},
}


def test_the_default_is_2026(settings: Any) -> None:
    assert DEFAULT_TERM_SET == "2026" and settings.FANPIN_TERMS == "2026"  # the test run sets no FANPIN_TERMS
    assert term("target") == "防止返贫致贫对象"
    del settings.FANPIN_TERMS  # a settings module without the name at all
    assert term("monitoring") == "防止返贫致贫监测"


@pytest.mark.parametrize("term_set", ["2020", "2026"])
def test_each_set_names_the_population_the_mechanism_and_the_scope(settings: Any, term_set: str) -> None:
    settings.FANPIN_TERMS = term_set
    for key, word in WORDS[term_set].items():
        assert term(key) == word and terms()[key] == word
    assert term("system") == WORDS[term_set]["monitoring"] + "和帮扶系统"
    assert str(term_lazy("target")) == WORDS[term_set]["target"]  # looked up when used, not at import


def test_an_unknown_key_is_an_error() -> None:
    with pytest.raises(KeyError):
        term("targets")


def test_a_wrong_setting_fails_the_system_check_and_every_lookup(settings: Any) -> None:
    assert term_set(None) == []
    assert not [m for m in run_checks() if m.id == "fanpin.E101"]
    settings.FANPIN_TERMS = "2021"
    [error] = term_set(None)
    assert isinstance(error, Error) and error.id == "fanpin.E101" and "2020, 2026" in (error.hint or "")
    assert [m.id for m in run_checks() if m.id == "fanpin.E101"] == ["fanpin.E101"]
    with pytest.raises(ImproperlyConfigured, match="FANPIN_TERMS"):
        term("target")


def test_labels_frozen_in_migrations_are_shown_in_the_deployments_words(settings: Any) -> None:
    assert termed("监测对象导出 · 纳入监测范围 · 防止返贫监测和帮扶系统") == (
        "防止返贫致贫对象导出 · 纳入防止返贫致贫监测范围 · 防止返贫致贫监测和帮扶系统"
    )
    settings.FANPIN_TERMS = "2020"
    assert termed("监测对象导出") == "监测对象导出"


def test_leftovers_are_words_of_the_other_set_not_parts_of_this_sets_words(settings: Any) -> None:
    assert leftover_terms("纳入防止返贫致贫监测范围的防止返贫致贫对象") == []
    assert leftover_terms("纳入监测范围的监测对象") == ["监测对象", "监测范围"]
    assert leftover_terms("拨打全国防止返贫监测和乡村振兴咨询服务平台电话 12317") == []  # a proper name
    settings.FANPIN_TERMS = "2020"
    assert leftover_terms("纳入监测范围的监测对象") == []
    assert leftover_terms("防止返贫致贫对象") == ["防止返贫致贫", "防止返贫致贫对象"]


@pytest.mark.parametrize("term_set", ["2020", "2026"])
def test_messages_labels_and_export_headers_follow_the_setting(settings: Any, term_set: str) -> None:
    settings.FANPIN_TERMS = term_set
    words = WORDS[term_set]
    text = notice_text(NoticeKind.INCLUDED, category="边缘易致贫户")
    assert f"已纳入{words['monitoring']}对象（边缘易致贫户）" in text and not leftover_terms(text)
    assert target_columns()[5][0] == headers()[5] == f"{words['target']}类别"
    assert str(ConfirmForm().fields["category"].label) == f"{words['target']}类别"  # a form declared at import


@pytest.mark.parametrize("term_set", ["2020", "2026"])
def test_pages_get_the_terms_and_the_500_page_too(settings: Any, world: World, term_set: str) -> None:
    settings.FANPIN_TERMS = term_set
    words = WORDS[term_set]
    html = world.client_for("county").get(reverse("monitoring:target_list")).content.decode()
    assert f'<h1 class="h4 mb-0">{words["target"]}</h1>' in html  # the context processor
    assert f"<title>{words['target']} · {words['monitoring']}和帮扶系统</title>" in html
    assert not leftover_terms(html)
    # Django's 500 handler renders without a request: base.html takes the brand from {% term %}
    html = render_to_string("500.html")
    assert f"{words['monitoring']}和帮扶系统" in html and not leftover_terms(html)


@pytest.mark.parametrize("term_set", ["2020", "2026"])
def test_model_names_follow_the_setting_without_a_migration(settings: Any, term_set: str) -> None:
    settings.FANPIN_TERMS = term_set
    assert str(MonitoringTarget._meta.verbose_name) == WORDS[term_set]["target"]  # the admin, content types
    assert MonitoringTarget._meta.original_attrs["verbose_name"] == "监测对象"  # what the migrations read
