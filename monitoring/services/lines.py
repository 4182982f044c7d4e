from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from fanpin.core.audit import audit_record
from fanpin.core.models import User
from monitoring.models import MonitoringLine, Region

NATIONAL = "000000000000"
DEFAULT_MULTIPLIER = Decimal("1.5")


def _money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@transaction.atomic
def monitoring_line_set(
    *,
    year: int,
    poverty_line: Decimal | None = None,
    multiplier: Decimal | None = None,
    line: Decimal | None = None,
    province_code: str | None = None,
    source: str = "",
    actor: User | None = None,
) -> MonitoringLine:
    """Set the national line (no province) or a province's own line for a year.

    Either an explicit published ``line`` or ``poverty_line`` × ``multiplier`` (default 1.5).
    A provincial line may only be higher than or equal to the national one (SPEC §2); a national line
    may not rise above a province's existing line for that year.
    """
    if (line is None) == (poverty_line is None):
        raise ValidationError("请给出监测标准（--line）或扶贫标准（--poverty-line），二者选一。")
    if not 2000 <= year <= 2100:
        raise ValidationError(f"年度 {year} 不在 2000–2100 之间。")
    if poverty_line is not None:
        multiplier = DEFAULT_MULTIPLIER if multiplier is None else multiplier
        if poverty_line <= 0 or multiplier <= 0:
            raise ValidationError("扶贫标准和倍数必须大于 0。")
        effective = _money(poverty_line * multiplier)
    else:
        if multiplier is not None:
            raise ValidationError("直接给出监测标准时不能同时给出倍数。")
        assert line is not None
        if line <= 0:
            raise ValidationError("监测标准必须大于 0。")
        effective = _money(line)

    province: Region | None = None
    if province_code:
        province = Region.objects.filter(code=province_code).first()
        if province is None or province.level != Region.Level.PROVINCE:
            raise ValidationError(f"省级区划代码 {province_code} 不存在。")
        national = (
            MonitoringLine.objects.select_for_update()
            .filter(year=year, province__isnull=True)
            .values_list("line", flat=True)
            .first()
        )
        if national is not None and effective < national:
            raise ValidationError(
                f"{province.name} {year} 年监测标准 {effective} 元低于全国标准 {national} 元："
                "省级标准只能高于或等于全国标准。"
            )
    else:
        lower = list(
            MonitoringLine.objects.select_for_update()
            .filter(year=year, province__isnull=False, line__lt=effective)
            .select_related("province")
        )
        if lower:
            names = "、".join(f"{row.province.name}（{row.line} 元）" for row in lower if row.province)
            raise ValidationError(
                f"全国 {year} 年监测标准 {effective} 元将高于以下省份已设置的标准：{names}。请先调整省级标准。"
            )

    existing = MonitoringLine.objects.select_for_update().filter(year=year, province=province).first()
    before = str(existing.line) if existing else ""
    if existing is None:
        existing = MonitoringLine(year=year, province=province)
    existing.poverty_line = _money(poverty_line) if poverty_line is not None else None
    existing.multiplier = multiplier if poverty_line is not None else None
    existing.line = effective
    existing.source = source
    existing.updated_by = actor if actor is not None and actor.pk else None
    existing.save()
    audit_record(
        actor=actor,
        object_type="monitoring_line",
        object_id=existing.pk,
        region_code=province.code if province else NATIONAL,
        action="set",
        from_state=before,
        to_state=str(effective),
        reason=source,
        data={"year": year, "province": province.code if province else None},
    )
    return existing
