"""走访记录 (visits): record one, with photos; raise or merge a ``VISIT`` lead when it finds risk (SPEC §3)."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from PIL import ExifTags, Image

from fanpin.core.audit import audit_record
from fanpin.core.scoping import ObjectOutOfScope
from monitoring.models import (
    CHECKLIST_FIELDS,
    CHECKLIST_RISK_TYPES,
    EVENT_RISK_TYPES,
    MAX_VISIT_PHOTOS,
    Household,
    IncomeChange,
    LeadSource,
    Visit,
    VisitEvent,
    VisitPhoto,
)
from monitoring.services.campaigns import campaign_tasks_complete_by_visit
from monitoring.services.review import lead_raise_or_merge
from monitoring.services.uploads import PHOTO_MAX_SIDE, image_upload_error, jpeg_draft

PHOTO_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}


@dataclass(frozen=True)
class VisitInput:
    household_id: int
    visited_on: dt.date
    visitors: str
    secure: dict[str, bool] = field(default_factory=dict)  # checklist field → secured (missing: secured)
    events: Sequence[str] = ()
    income_change: str = IncomeChange.NONE
    risk_flag: bool = False
    notes: str = ""
    client_uuid: uuid.UUID | None = None
    photos: Sequence[UploadedFile] = ()


@dataclass(frozen=True)
class VisitOutcome:
    visit: Visit
    created: bool  # False: the client_uuid was already recorded (a resend)
    lead_id: int | None


def visit_errors(data: VisitInput) -> dict[str, str]:
    errors: dict[str, str] = {}
    if data.visited_on > timezone.localdate():
        errors["visited_on"] = "走访日期不能晚于今天。"
    if not data.visitors.strip():
        errors["visitors"] = "请填写走访人。"
    if any(e not in VisitEvent.values for e in data.events):
        errors["events"] = "发现事项无效。"
    if data.income_change not in IncomeChange.values:
        errors["income_change"] = "请选择收入变化。"
    if len(data.photos) > MAX_VISIT_PHOTOS:
        errors["photos"] = f"照片最多 {MAX_VISIT_PHOTOS} 张。"
    else:
        for photo in data.photos:
            message = photo_error(photo)
            if message:
                errors["photos"] = message
                break
    return errors


def photo_error(photo: UploadedFile) -> str:
    limit = int(settings.VISIT_PHOTO_MAX_BYTES)
    if (photo.size or 0) > limit:
        return f"照片“{photo.name}”超过 {limit // (1024 * 1024)} MB。"
    return image_upload_error(photo, what="照片", formats=PHOTO_FORMATS)


ORIENTATION = {  # EXIF orientation → the transposition that shows the photo upright
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
BAND_ROWS = 256  # rows converted and reduced at a time


def _clean_mode(image: Image.Image, fmt: str) -> str:
    alpha = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info
    if alpha and fmt != "JPEG":
        return "RGBA"
    return "L" if image.mode in ("1", "L") else "RGB"


def _clean_copy(original: Image.Image, fmt: str) -> Image.Image:
    """A new image (no metadata) of the decoded ``original``, box-reduced by a whole factor to at
    most ``PHOTO_MAX_SIDE`` on its long side, converted and reduced a band of rows at a time: the
    only full-size pixels a request holds are the decoded original's."""
    width, height = original.size
    factor = -(-max(width, height) // PHOTO_MAX_SIDE)
    mode = _clean_mode(original, fmt)
    clean = Image.new(mode, (-(-width // factor), -(-height // factor)))
    band = factor * max(1, BAND_ROWS // factor)
    for top in range(0, height, band):
        piece = original.crop((0, top, width, min(height, top + band))).convert(mode)
        clean.paste(piece.reduce(factor) if factor > 1 else piece, (0, top // factor))
    return clean


def photo_clean(photo: UploadedFile) -> ContentFile[bytes]:
    """Re-encode the image without its metadata: EXIF (GPS location included) does not survive.

    The caller checked it with ``photo_error`` (header: pixel and decode limits).  A JPEG decodes at
    a reduced scale (``jpeg_draft``); the photo is stored at most ``PHOTO_MAX_SIDE`` pixels on its
    long side, so a request holds one decoded image and smaller copies (< 100 MB, measured in
    tests/monitoring/test_upload_bombs.py).
    """
    photo.seek(0)
    with Image.open(photo) as original:
        fmt = original.format or "JPEG"
        jpeg_draft(original)
        original.load()
        method = ORIENTATION.get(original.getexif().get(ExifTags.Base.Orientation, 1))
        clean = _clean_copy(original, fmt)
    if method is not None:  # keep the orientation the camera meant
        clean = clean.transpose(method)
    out = io.BytesIO()
    clean.save(out, format=fmt, **({"quality": 85} if fmt == "JPEG" else {}))
    return ContentFile(out.getvalue(), name=f"{uuid.uuid4().hex}.{PHOTO_FORMATS.get(fmt, 'jpg')}")


def _photo_cleaned(photo: UploadedFile) -> ContentFile[bytes]:
    """``photo_clean``, with a photo whose header was fine but whose pixels are not (a phone's
    half-sent file) refused next to the field instead of failing the request."""
    try:
        return photo_clean(photo)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationError(
            {"photos": f"照片“{photo.name}”不是完整的图片（文件可能只传了一部分），请重新拍摄或选择。"}
        ) from None


def _household_in_scope(*, actor: Any, household_id: int) -> Household:
    try:
        return Household.objects.for_user(actor).get(pk=household_id)
    except Household.DoesNotExist:
        raise ObjectOutOfScope("农户") from None


def visit_evidence(visit: Visit) -> dict[str, Any]:
    """What the lead shows: the failing items, the events, the income change, the visit."""
    labels = dict(VisitEvent.choices)
    return {
        "visit_id": visit.pk,
        "visited_on": visit.visited_on.isoformat(),
        "failing_items": [label for name, label in CHECKLIST_FIELDS if not getattr(visit, name)],
        "events": [labels[e] for e in visit.events],
        "income_change": visit.get_income_change_display(),
        "risk_flag": visit.risk_flag,
    }


@transaction.atomic
def visit_record(*, actor: Any, data: VisitInput) -> VisitOutcome:
    """Record a visit (idempotent on ``client_uuid``); raise or merge a VISIT lead when it finds risk."""
    household = _household_in_scope(actor=actor, household_id=data.household_id)
    if data.client_uuid is not None:
        existing = Visit.objects.filter(client_uuid=data.client_uuid).first()
        if existing is not None:
            if existing.household_id != household.pk:
                raise ValidationError({"client_uuid": "客户端编号已被另一条走访记录使用。"})
            return VisitOutcome(visit=existing, created=False, lead_id=None)
    errors = visit_errors(data)
    if errors:
        raise ValidationError(errors)
    photos = [_photo_cleaned(photo) for photo in data.photos]  # before anything is written
    events = [e for e in VisitEvent.values if e in set(data.events)]
    visit = Visit(
        household=household,
        visited_on=data.visited_on,
        visitors=data.visitors.strip(),
        recorded_by=actor,
        events=events,
        income_change=data.income_change,
        risk_flag=data.risk_flag,
        notes=data.notes.strip(),
        client_uuid=data.client_uuid,
    )
    for name, _label in CHECKLIST_FIELDS:
        setattr(visit, name, bool(data.secure.get(name, True)))
    try:
        with transaction.atomic():
            visit.save()
    except IntegrityError:  # the same client_uuid arrived twice at once: the first one wins
        existing = Visit.objects.get(client_uuid=data.client_uuid)
        return VisitOutcome(visit=existing, created=False, lead_id=None)
    for image in photos:
        VisitPhoto.objects.create(visit=visit, image=image)
    audit_record(
        actor=actor,
        object_type="visit",
        object_id=visit.pk,
        region_code=household.village_id,
        action="create",
        data={"risk": visit.risk_flag or not visit.all_secure, "photos": len(data.photos)},
    )
    campaign_tasks_complete_by_visit(visit=visit, actor=actor)  # 回头看/信息采集 tasks of the household
    lead_id = None
    if visit.risk_flag or not visit.all_secure:
        lead = lead_raise_or_merge(
            household_id=household.pk,
            source=LeadSource.VISIT,
            evidence=visit_evidence(visit),
            actor=actor,
            suggested_risk_types=[
                *(EVENT_RISK_TYPES[e] for e in events),
                *(risk for name, risk in CHECKLIST_RISK_TYPES.items() if not getattr(visit, name)),
            ],
        )
        lead_id = lead.pk if lead is not None else None
    return VisitOutcome(visit=visit, created=True, lead_id=lead_id)
