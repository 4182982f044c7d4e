from monitoring.models.alerts import AlertStatus, AlertType, DepartmentAlert
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
from monitoring.models.imports import ImportJob, ImportKind, ImportStatus
from monitoring.models.lines import MonitoringLine
from monitoring.models.regions import Region, RegionLevel, region_level_of, region_parent_code

__all__ = [
    "AlertStatus",
    "AlertType",
    "AnnualIncome",
    "DepartmentAlert",
    "DisabilityGrade",
    "Employment",
    "ExpenditureCategory",
    "Health",
    "Household",
    "HouseholdType",
    "ImportJob",
    "ImportKind",
    "ImportStatus",
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
