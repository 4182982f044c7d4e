"""Seed the assistance catalogue of SPEC §5 (a frozen copy: later changes come as new migrations)."""

from django.db import migrations

DEVELOPMENTAL = ("INDUSTRY", "EMPLOYMENT", "FINANCE")

# (code, name, category, risk types it addresses)
CATALOGUE = [
    ("PRODUCTION_SKILLS_TRAINING", "生产经营技能培训", "INDUSTRY", ["INDUSTRY_FAILURE"]),
    ("LEADING_ENTERPRISE_DRIVE", "龙头企业/合作社/致富带头人带动", "INDUSTRY", ["INDUSTRY_FAILURE"]),
    ("INDUSTRY_SUBSIDY", "产业奖补", "INDUSTRY", ["INDUSTRY_FAILURE", "DISASTER"]),
    ("LABOR_SKILLS_TRAINING", "劳动技能培训", "EMPLOYMENT", ["UNSTABLE_EMPLOYMENT"]),
    ("LABOR_TRANSFER", "劳务协作转移就业", "EMPLOYMENT", ["UNSTABLE_EMPLOYMENT"]),
    ("WORKSHOP_EMPLOYMENT", "扶贫车间就业", "EMPLOYMENT", ["UNSTABLE_EMPLOYMENT", "DISABILITY"]),
    ("PUBLIC_WELFARE_POST", "公益岗位安置", "EMPLOYMENT", ["LACK_OF_LABOR", "UNSTABLE_EMPLOYMENT", "DISABILITY"]),
    ("RURAL_PROJECT_WORK", "参与农村项目建设", "EMPLOYMENT", ["UNSTABLE_EMPLOYMENT"]),
    ("MICROCREDIT", "小额信贷", "FINANCE", ["INDUSTRY_FAILURE"]),
    ("ANTI_POVERTY_INSURANCE", "防返贫保险", "FINANCE", ["ILLNESS", "DISASTER", "ACCIDENT"]),
    ("MEDICAL_ASSISTANCE", "医疗保障/医疗救助", "HEALTH", ["ILLNESS", "EPIDEMIC"]),
    ("SERIOUS_ILLNESS_TREATMENT", "大病专项救治", "HEALTH", ["ILLNESS"]),
    ("COMPULSORY_EDUCATION", "义务教育保障", "EDUCATION", ["EDUCATION"]),
    ("YULU_PLAN", "雨露计划", "EDUCATION", ["EDUCATION"]),
    ("DILAPIDATED_HOUSING_RENOVATION", "危房改造", "HOUSING_WATER", ["HOUSING", "DISASTER"]),
    ("RELOCATION", "易地搬迁", "HOUSING_WATER", ["HOUSING"]),
    ("DRINKING_WATER_SAFETY", "饮水安全保障", "HOUSING_WATER", ["DRINKING_WATER"]),
    ("MINIMUM_LIVING_ALLOWANCE", "最低生活保障", "SOCIAL_SECURITY", ["LACK_OF_LABOR", "ILLNESS", "DISABILITY"]),
    ("EXTREME_POVERTY_SUPPORT", "特困人员救助供养", "SOCIAL_SECURITY", ["LACK_OF_LABOR"]),
    ("PENSION_INSURANCE", "养老保险", "SOCIAL_SECURITY", ["LACK_OF_LABOR"]),
    ("DISABILITY_ALLOWANCE", "残疾人补贴", "SOCIAL_SECURITY", ["DISABILITY"]),
    ("DISASTER_RELIEF", "灾害救助", "SOCIAL_SECURITY", ["DISASTER"]),
    ("TEMPORARY_RELIEF", "临时救助", "SOCIAL_SECURITY", ["ACCIDENT", "EPIDEMIC", "ILLNESS", "DISASTER", "OTHER"]),
    ("MATERIAL_REWARD", "物质奖励", "MOTIVATION", []),
    ("SPIRITUAL_INCENTIVE", "精神激励", "MOTIVATION", []),
    ("SOCIAL_ASSISTANCE_FUNDS", "社会帮扶资金", "SOCIAL_AID", ["OTHER"]),
    ("PAIRED_ASSISTANCE", "结对帮扶", "SOCIAL_AID", ["OTHER"]),
]


def seed(apps, schema_editor):
    Measure = apps.get_model("assistance", "Measure")
    for order, (code, name, category, risk_types) in enumerate(CATALOGUE, start=1):
        Measure.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "category": category,
                "kind": "DEVELOPMENTAL" if category in DEVELOPMENTAL else "PROTECTIVE",
                "risk_types": risk_types,
                "is_active": True,
                "sort_order": order * 10,
            },
        )


def unseed(apps, schema_editor):
    apps.get_model("assistance", "Measure").objects.filter(code__in=[c[0] for c in CATALOGUE]).delete()


class Migration(migrations.Migration):
    dependencies = [("assistance", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
