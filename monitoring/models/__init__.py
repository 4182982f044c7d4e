from monitoring.models.households import (
    AnnualIncome,
    DisabilityGrade,
    Employment,
    ExpenditureCategory,
    Health,
    Household,
    HouseholdType,
    Labor,
    Member,
    Relation,
    RigidExpenditure,
    Schooling,
)
from monitoring.models.lines import MonitoringLine
from monitoring.models.regions import Region, RegionLevel, region_level_of, region_parent_code

__all__ = [
    "AnnualIncome",
    "DisabilityGrade",
    "Employment",
    "ExpenditureCategory",
    "Health",
    "Household",
    "HouseholdType",
    "Labor",
    "Member",
    "MonitoringLine",
    "Region",
    "RegionLevel",
    "Relation",
    "RigidExpenditure",
    "Schooling",
    "region_level_of",
    "region_parent_code",
]
