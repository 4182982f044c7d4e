"""身份证号 validation (GB 11643): hypothesis for the check digit, plus the known edge cases."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from fanpin.core.idcard import id_check_digit, id_number_is_valid, id_number_mask, id_number_normalize

TODAY = dt.date(2026, 11, 28)

addresses = st.from_regex(r"[1-6][0-9]{5}", fullmatch=True)
births = st.dates(min_value=dt.date(1900, 1, 1), max_value=TODAY)
sequences = st.integers(min_value=0, max_value=999)


@st.composite
def valid_ids(draw: st.DrawFn) -> str:
    first17 = f"{draw(addresses)}{draw(births):%Y%m%d}{draw(sequences):03d}"
    return first17 + id_check_digit(first17)


@given(valid_ids())
def test_every_generated_valid_id_passes(value: str) -> None:
    assert id_number_normalize(value, today=TODAY) == value


@given(valid_ids(), st.integers(min_value=0, max_value=17), st.integers(min_value=1, max_value=9))
def test_every_single_digit_change_fails(value: str, position: int, delta: int) -> None:
    chars = list(value)
    if chars[position] == "X":
        chars[position] = str(delta)
    else:
        chars[position] = str((int(chars[position]) + delta) % 10)
    changed = "".join(chars)
    assert changed != value
    with pytest.raises(ValidationError):
        id_number_normalize(changed, today=TODAY)


def test_lower_case_x_is_accepted_and_stored_upper_case() -> None:
    first17 = "11010519491231002"
    assert id_check_digit(first17) == "X"
    assert id_number_normalize(first17 + "x") == first17 + "X"
    assert id_number_normalize(first17 + "X") == first17 + "X"


def test_surrounding_and_full_width_spaces_are_trimmed() -> None:
    assert id_number_normalize("\u3000 11010519491231002X \u3000") == "11010519491231002X"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("11010519491231002", "应为 18 位，当前为 17 位"),
        ("1101051949123100211", "应为 18 位，当前为 19 位"),
        ("110105194902300021", "出生日期 19490230 不是有效日期"),
        ("110105209901010021", "不在合理范围内"),
        ("11010519491231002A", "只能由数字组成"),
        ("110105194912310021", "校验位错误"),
    ],
)
def test_known_bad_ids_have_clear_messages(value: str, message: str) -> None:
    with pytest.raises(ValidationError) as exc:
        id_number_normalize(value, today=TODAY)
    assert message in exc.value.messages[0]


def test_a_number_cell_is_refused_with_a_message_saying_so() -> None:
    with pytest.raises(ValidationError) as exc:
        id_number_normalize(110105194912310021)
    assert "必须是文本" in exc.value.messages[0]
    assert not id_number_is_valid(1.10105194912310021e17)


def test_mask() -> None:
    assert id_number_mask("522728199001011234") == "522728********1234"


@pytest.mark.parametrize(
    ("header", "text", "expected"),
    [
        ("身份证号", "522728199001011234", "522728********1234"),
        ("身份证号+预警类型", "52272819900101123X+MEDICAL", "522728********123X+MEDICAL"),
        ("说明", "旧证 522728900101123 已换发", "旧证 522728********1123 已换发"),
        ("区划代码", "520101001001", "520101001001"),  # 12-digit codes are not IDs
        ("户编号", "H520101001002", "H520101001002"),
        ("联系电话", "13812345678", "138****5678"),
        # malformed numbers are exactly the ones that end up in error lists
        ("身份证号", "5201011980010100111", "520101********0111"),  # 19 digits
        ("身份证号", "52010119800101001Y", "520101********001Y"),  # a wrong last character
        ("身份证号", "520101 19800101 0011", "520101********0011"),  # with spaces
        ("身份证号", "12345", "*****"),
        ("说明", "证号 520101-19800101-0011 有误", "证号 520101********0011 有误"),
        ("说明", "证号 ５２０１０１１９８００１０１００１１ 有误", "证号 ５２０１０１********００１１ 有误"),
        # what the free-text mask finds too: phones and IDs split by commas, in any other column
        ("户主姓名", "张三 13912345678", "张三 139****5678"),
        ("说明", "联系 139，1234，5678", "联系 139，****，5678"),
        ("说明", "520101，19800101，0011", "520101，********，0011"),
        ("说明", "2025-03-01 收入 12345.67 元", "2025-03-01 收入 12345.67 元"),
    ],
)
def test_personal_text_mask(header: str, text: str, expected: str) -> None:
    from fanpin.core.masking import personal_text_mask

    assert personal_text_mask(header=header, text=text) == expected


def _born(on: dt.date) -> str:
    first17 = f"110105{on:%Y%m%d}002"
    return first17 + id_check_digit(first17)


@pytest.mark.parametrize("days", [-400, -3, -2, -1, 0])
def test_a_birth_up_to_today_in_beijing_is_accepted(days: int) -> None:
    number = _born(timezone.localdate() + dt.timedelta(days=days))
    assert id_number_normalize(number) == number


@pytest.mark.parametrize("days", [1, 2, 30])
def test_a_birth_after_today_in_beijing_is_refused(days: int) -> None:
    with pytest.raises(ValidationError, match="不在合理范围内"):
        id_number_normalize(_born(timezone.localdate() + dt.timedelta(days=days)))


# the plain check (``_plainly_valid``) decides the common case of ``id_number_normalize`` alone:
# it must accept exactly the canonical numbers the full check accepts (for births before the day
# before yesterday, UTC), and nothing else
near_dates = st.tuples(
    st.integers(min_value=1890, max_value=2110), st.integers(min_value=0, max_value=13), st.integers(0, 32)
)


@st.composite
def id_like(draw: st.DrawFn) -> str:
    year, month, day = draw(near_dates)
    first17 = f"{draw(addresses)}{year:04d}{month:02d}{day:02d}{draw(sequences):03d}"
    last = draw(st.one_of(st.just(id_check_digit(first17)), st.sampled_from("0123456789Xx")))
    return first17 + last


def _fully_valid(value: str) -> bool:
    try:
        return id_number_normalize(value, today=timezone.localdate()) == value
    except ValidationError:
        return False


@given(id_like())
def test_the_plain_check_accepts_what_the_full_check_accepts(value: str) -> None:
    from fanpin.core.idcard import _plainly_valid, _two_days_ago

    if _plainly_valid(value):
        assert _fully_valid(value)
    elif value[6:14] < _two_days_ago():
        assert not _fully_valid(value)


@pytest.mark.parametrize(
    "born", ["19000229", "21000229", "20000229", "19960229", "19990229", "19000101", "18991231", "19991300"]
)
def test_leap_days_and_the_range_ends_agree_with_the_full_check(born: str) -> None:
    from fanpin.core.idcard import _plainly_valid

    first17 = f"110105{born}002"
    value = first17 + id_check_digit(first17)
    assert _plainly_valid(value) == _fully_valid(value) == (born in ("20000229", "19960229", "19000101"))


def test_full_width_digits_give_the_same_check_digit() -> None:
    first17 = "11010519491231002"
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in first17)
    assert id_check_digit(full_width) == id_check_digit(first17) == "X"


@pytest.mark.parametrize("first17", ["1111111111111111a", " " * 17, "X" * 17, "12345678901234 67", "1" * 16])
def test_a_check_digit_is_only_given_for_17_digits(first17: str) -> None:
    with pytest.raises(ValueError):
        id_check_digit(first17)


@pytest.mark.parametrize(
    ("household_no", "village_code", "registrable"),
    [
        ("青山001", "520101001001", True),  # Chinese characters: not an ID
        ("H-NEW-2", "520101001001", True),
        ("52010100100100001", "520101001001", True),  # the village's code and a number
        ("５３９９０１１９９００１０１１２３７", "539901001001", False),  # a full-width ID
        ("539901 19900101 1237", "539901001001", False),
        ("青山13698765432", "520101001001", False),  # a mobile behind a word
    ],
)
def test_which_household_numbers_may_be_registered(household_no: str, village_code: str, registrable: bool) -> None:
    from fanpin.core.idcard import household_no_registrable

    assert household_no_registrable(household_no, village_code=village_code) is registrable
