from __future__ import annotations

from rest_framework import serializers

from assistance.models import Measure, TargetMeasure
from fanpin.core.masking import FreeTextMasked
from fanpin.core.terms import term_lazy


class MeasureCatalogueSerializer(serializers.ModelSerializer[Measure]):
    class Meta:
        model = Measure
        fields = ["code", "name", "category", "kind", "risk_types", "is_active"]


class TargetMeasureSerializer(FreeTextMasked, serializers.ModelSerializer[TargetMeasure]):
    """An applied measure; codes (measure, category, kind, status) are the upper-case codes."""

    free_text_fields = ("responsible_name", "responsible_unit", "progress_notes")

    household_no = serializers.CharField(source="target.household.household_no", read_only=True)
    head_name = serializers.CharField(read_only=True, allow_null=True)
    village = serializers.CharField(source="target.household.village_id", read_only=True)
    village_name = serializers.CharField(source="target.household.village.name", read_only=True)
    target_status = serializers.CharField(source="target.status", read_only=True)
    measure = serializers.CharField(source="measure.code", read_only=True)
    measure_name = serializers.CharField(source="measure.name", read_only=True)
    category = serializers.CharField(source="measure.category", read_only=True)
    kind = serializers.CharField(source="measure.kind", read_only=True)

    class Meta:
        model = TargetMeasure
        fields = [
            "id",
            "target",
            "target_status",
            "household_no",
            "head_name",
            "village",
            "village_name",
            "measure",
            "measure_name",
            "category",
            "kind",
            "responsible_name",
            "responsible_unit",
            "responsible_phone",
            "start_on",
            "end_on",
            "amount",
            "amount_kind",
            "status",
            "progress_notes",
            "created_at",
            "updated_at",
        ]
        # the model's verbose name keeps the migrations' words; the API shows the glossary's (fanpin.core.terms)
        extra_kwargs = {"target": {"label": term_lazy("target")}}
