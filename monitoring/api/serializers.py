from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from fanpin.core.idcard import id_number_mask, phone_mask
from fanpin.core.masking import FreeTextMasked
from monitoring.models import AnnualIncome, Household, Member, Region


class RegionSerializer(serializers.ModelSerializer[Region]):
    class Meta:
        model = Region
        fields = ["code", "name", "level", "parent", "is_deep_poverty"]


class MemberSerializer(serializers.ModelSerializer[Member]):
    """Members with the 身份证号 masked (SPEC §1)."""

    id_number = serializers.SerializerMethodField()

    class Meta:
        model = Member
        fields = [
            "id",
            "name",
            "id_number",
            "relation",
            "health",
            "disability_grade",
            "labor",
            "schooling",
            "employment",
            "has_medical_insurance",
        ]

    @extend_schema_field(serializers.CharField(help_text="脱敏的身份证号，如 522728********1234"))
    def get_id_number(self, obj: Member) -> str:
        return id_number_mask(obj.id_number)


class IncomeSerializer(serializers.ModelSerializer[AnnualIncome]):
    total = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)
    per_capita = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)

    class Meta:
        model = AnnualIncome
        fields = [
            "year",
            "family_size",
            "wage_income",
            "business_income",
            "property_income",
            "transfer_income",
            "total",
            "per_capita",
        ]


class DepartedMemberSerializer(MemberSerializer):
    """A member whose death or removal the county accepted: kept in the registry with the status
    (DECEASED 死亡 / REMOVED 注销) and the date it was recorded; no current member."""

    class Meta(MemberSerializer.Meta):
        fields = [*MemberSerializer.Meta.fields, "status", "departed_on"]


class HouseholdListSerializer(serializers.ModelSerializer[Household]):
    head_name = serializers.CharField(read_only=True, allow_null=True)
    village_name = serializers.CharField(source="village.name", read_only=True)
    phone = serializers.SerializerMethodField()

    class Meta:
        model = Household
        fields = [
            "id",
            "household_no",
            "village",
            "village_name",
            "household_type",
            "exit_year",
            "head_name",
            "phone",
        ]

    @extend_schema_field(serializers.CharField(help_text="脱敏的联系电话"))
    def get_phone(self, obj: Household) -> str:
        return phone_mask(obj.phone)


class HouseholdDetailSerializer(FreeTextMasked, HouseholdListSerializer):
    free_text_fields = ("address",)
    # the current members; the deceased and removed ones apart, with their status and date
    members = MemberSerializer(source="current_members", many=True, read_only=True)
    departed_members = DepartedMemberSerializer(many=True, read_only=True)
    incomes = IncomeSerializer(many=True, read_only=True)

    class Meta(HouseholdListSerializer.Meta):
        fields = [*HouseholdListSerializer.Meta.fields, "address", "members", "departed_members", "incomes"]
