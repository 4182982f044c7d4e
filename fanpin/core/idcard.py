"""居民身份证号码 (GB 11643-1999): validation, check digit, masking."""

from __future__ import annotations

import datetime as dt
import operator
import time
import unicodedata

from django.core.exceptions import ValidationError
from django.utils import timezone

from fanpin.core.typed import plain

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_FULL_WIDTH_SPACE = "\u3000"
_ZEROS = ord("0") * sum(_WEIGHTS)  # what the weighted sum of 17 ASCII digits' codes is more than their digits'
# every month and day of a year ("MMDD"; 0229 in a leap year only)
_MONTH_DAYS = frozenset(
    f"{m:02d}{d:02d}"
    for m in range(1, 13)
    for d in range(1, (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)[m - 1] + 1)
)
_SECONDS_A_DAY = 86_400
_EPOCH = dt.date(1970, 1, 1)


def id_check_digit(first17: str) -> str:
    """The 18th character for the first 17 digits (ISO 7064 MOD 11-2)."""
    if len(first17) != len(_WEIGHTS):
        raise ValueError(f"id_check_digit needs 17 digits, got {len(first17)}")
    if first17.isascii() and first17.isdigit():  # the codes, no int() each (an import checks 300 000)
        return _CHECK_CHARS[(sum(map(operator.mul, first17.encode(), _WEIGHTS)) - _ZEROS) % 11]
    return _CHECK_CHARS[sum(map(operator.mul, map(int, first17), _WEIGHTS)) % 11]


def id_birth_date(value: str) -> dt.date:
    return dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))


def birth_date_plausible(digits: str) -> bool:
    """Whether ``digits`` read as the birth date an ID holds in its place: ``YYYYMMDD`` (1900–2099),
    or the ``YYMMDD`` of an old 15-digit number.  Tells an ID-shaped number from other long numbers
    (a 户编号, dates and amounts run together) where one may be a 身份证号 typed by hand."""
    pattern = "%Y%m%d" if len(digits) == 8 else "%y%m%d"
    try:
        born = dt.datetime.strptime(digits, pattern)
    except ValueError:
        return False
    return 1900 <= born.year <= 2099


_born_before: tuple[int, str] = (0, "")  # (day of the Unix epoch, the day two days before it as YYYYMMDD)


def _two_days_ago() -> str:
    """The day before yesterday in UTC as YYYYMMDD: before today in every time zone."""
    global _born_before  # a one-entry cache of the current day
    day = int(time.time() // _SECONDS_A_DAY)
    if _born_before[0] != day:
        _born_before = (day, f"{_EPOCH + dt.timedelta(days=day - 2):%Y%m%d}")
    return _born_before[1]


def _plainly_valid(value: object) -> bool:
    """Whether ``value`` is already a canonical, valid 身份证号 born before the day before
    yesterday: the common case, decided by string tests alone (a 300 000-member import checks every
    number; this takes a third of the time of the full check).  False sends it to the full check,
    which also says what is wrong."""
    if type(value) is not str or len(value) != 18 or not value.isascii() or not value[:17].isdigit():
        return False
    last, born = value[17], value[6:14]
    if not (last.isdigit() or last == "X") or born[4:] not in _MONTH_DAYS or not "1900" <= born < _two_days_ago():
        return False
    if born[4:] == "0229":
        year = int(born[:4])
        if year % 4 or (year % 100 == 0 and year % 400):
            return False
    return id_check_digit(value[:17]) == last


def id_number_normalize(value: object, *, today: dt.date | None = None) -> str:
    """Return the canonical (upper-case X) 18-character ID or raise ``ValidationError`` in Chinese."""
    if today is None and _plainly_valid(value):
        return value  # type: ignore[return-value]  # a str: _plainly_valid checked it
    if not isinstance(value, str):
        raise ValidationError("身份证号必须是文本，不能是数字（请将该列设置为文本格式后重新录入）。")
    text = value.strip().replace(_FULL_WIDTH_SPACE, "").upper()
    if len(text) != 18:
        raise ValidationError(f"身份证号应为 18 位，当前为 {len(text)} 位。")
    if not text[:17].isdigit() or not (text[17].isdigit() or text[17] == "X"):
        raise ValidationError("身份证号只能由数字组成，最后一位可以是 X。")
    if not text.isascii():
        raise ValidationError("身份证号只能由数字组成，最后一位可以是 X。")
    try:
        birth = id_birth_date(text)
    except ValueError:
        raise ValidationError(f"身份证号中的出生日期 {text[6:14]} 不是有效日期。") from None
    if today is None and birth < dt.date.today() - dt.timedelta(days=2):
        # before the day before yesterday on this machine's clock: before today in any time zone,
        # without asking for the current time zone (a large import checks 300 000 numbers)
        today = birth
    today = today or timezone.localdate()
    if birth.year < 1900 or birth > today:
        raise ValidationError(f"身份证号中的出生日期 {text[6:14]} 不在合理范围内。")
    if id_check_digit(text[:17]) != text[17]:
        raise ValidationError("身份证号校验位错误，请核对号码。")
    return text


def id_number_is_valid(value: object) -> bool:
    try:
        id_number_normalize(value)
    except ValidationError:
        return False
    return True


def _typed(text: str) -> str:
    """A search term as typed with a Chinese input method (１２３４, ｘ) in ASCII, upper-cased."""
    return plain(text).upper()


def id_search_whole(text: str) -> str | None:
    """A search term that is a whole, valid 身份证号 (18 characters, right GB 11643 check digit),
    upper-cased; ``None`` otherwise.  Only such a term is looked up as a full number (SPEC §1).
    Full-width characters read as ASCII (``_typed``), here and in the access log alike."""
    term = _typed(text)
    if len(term) != 18 or not term.isascii() or not term[:17].isdigit():
        return None
    return term if id_check_digit(term[:17]) == term[17] else None


def id_search_tail(text: str) -> str | None:
    """A search term that is what a masked 身份证号 shows: exactly its last 4 characters, upper-cased;
    ``None`` otherwise.  Never 5 to 17 characters: each further one would reveal a hidden digit."""
    term = _typed(text)
    if len(term) == 4 and term.isascii() and term[:3].isdigit() and (term[3].isdigit() or term[3] == "X"):
        return term
    return None


def id_number_mask(value: str) -> str:
    """``522728199001011234`` → ``522728********1234``."""
    if len(value) != 18:
        return "*" * len(value)
    return f"{value[:6]}********{value[-4:]}"


def phone_digits(phone: str) -> str:
    """The digits of a phone as people write them: 13812345678, 0851-86801234, (0851)86801234, +86 138…"""
    return "".join(ch for ch in phone.strip() if ch not in " -()+")


def phone_plausible(text: str) -> bool:
    """Whether ``text`` is one phone number: 7–15 digits once spaces, dashes, brackets and ``+``
    are left out (a 帮扶责任人's work phone, typed into a form)."""
    digits = phone_digits(text)
    return digits.isascii() and digits.isdigit() and 7 <= len(digits) <= 15


def phone_cell_plausible(text: str) -> bool:
    """Whether an imported contact cell holds a phone number: at least 7 digits (full-width ones
    too) — the cells people keep hold two numbers, an extension (转8001), a note (（本人）), any
    dash; what it refuses is a cell with none (“abc”, “无”, “不详”)."""
    return sum(ch.isdigit() for ch in unicodedata.normalize("NFKC", text)) >= 7


def phone_mask(value: str) -> str:
    """``13812345678`` → ``138****5678``; short numbers keep only their last two digits."""
    if not value:
        return ""
    if len(value) >= 11:
        return f"{value[:3]}****{value[-4:]}"
    return "*" * max(len(value) - 2, 0) + value[-2:]


def household_no_readable(raw: str) -> bool:
    """Whether a 户编号 may be shown as typed where numbers are masked (an import's error list, a
    notice): letters and digits only, and nothing that could be a 身份证号 or a mobile typed into the
    wrong column — 15 digits with a birth date (YYMMDD) at 7–12, 17–18 characters with one (YYYYMMDD)
    at 7–14 whatever the check digit, 11 digits from 13–19."""
    if not (raw and raw.isascii() and raw.isalnum()):
        return False
    if len(raw) == 11 and raw.isdigit() and raw[0] == "1" and raw[1] in "3456789":
        return False
    if len(raw) == 15 and raw.isdigit():
        return not birth_date_plausible(raw[6:12])
    if len(raw) in (17, 18) and raw[:17].isdigit():
        return not birth_date_plausible(raw[6:14])
    return True


def household_no_registrable(household_no: str, *, village_code: str) -> bool:
    """Whether a 户编号 may be registered: it is listed unmasked to every role, so it must not be a
    身份证号 or a mobile typed into the wrong column, however written (full-width digits, spaces,
    dashes: ``household_no_readable`` of its ASCII letters and digits; 青山001 is a 户编号) — unless it begins with the
    household's 12-digit village code, as 户编号 are made (the village code and a number)."""
    compact = "".join(ch for ch in unicodedata.normalize("NFKC", household_no) if ch.isascii() and ch.isalnum())
    if village_code and compact.startswith(village_code):
        return True
    return household_no_readable(compact)
