from __future__ import annotations

from django.db.models import QuerySet
from rest_framework import viewsets

from assistance.api.filters import TargetMeasureFilter
from assistance.api.serializers import TargetMeasureSerializer
from assistance.models import TargetMeasure
from assistance.selectors.plans import target_measures_in_scope
from fanpin.core.scoping import ScopedAPIViewMixin
from fanpin.web.api import ID_REGEX


class AssistanceViewSet(ScopedAPIViewMixin, viewsets.ReadOnlyModelViewSet[TargetMeasure]):
    """帮扶措施（落实情况）：本人管辖范围内监测对象的帮扶措施，可按状态、类别、措施、区划过滤。"""

    queryset = TargetMeasure.objects.all()
    lookup_value_regex = ID_REGEX
    serializer_class = TargetMeasureSerializer
    filterset_class = TargetMeasureFilter

    def get_queryset(self) -> QuerySet[TargetMeasure]:
        return target_measures_in_scope(user=self.request.user)
