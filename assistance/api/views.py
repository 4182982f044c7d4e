from __future__ import annotations

from django.db.models import QuerySet
from django.utils.text import format_lazy
from rest_framework import viewsets

from assistance.api.filters import TargetMeasureFilter
from assistance.api.serializers import TargetMeasureSerializer
from assistance.models import TargetMeasure
from assistance.selectors.plans import target_measures_in_scope
from fanpin.core.scoping import ScopedAPIViewMixin
from fanpin.core.terms import term_lazy
from fanpin.web.api import ID_REGEX


class AssistanceViewSet(ScopedAPIViewMixin, viewsets.ReadOnlyModelViewSet[TargetMeasure]):
    queryset = TargetMeasure.objects.all()
    lookup_value_regex = ID_REGEX
    serializer_class = TargetMeasureSerializer
    filterset_class = TargetMeasureFilter

    def get_queryset(self) -> QuerySet[TargetMeasure]:
        return target_measures_in_scope(user=self.request.user)


# the description (browsable API, OpenAPI schema) names the targets with the glossary (fanpin.core.terms)
AssistanceViewSet.__doc__ = format_lazy(  # type: ignore[assignment]
    "帮扶措施（落实情况）：本人管辖范围内{}的帮扶措施，可按状态、类别、措施、区划过滤。", term_lazy("target")
)
