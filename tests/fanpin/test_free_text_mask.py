"""Numbers in free text masked however they are written (an outside attack read phones and 身份证号
through every format the first mask missed: a country code, full-width digits, dots, dashes of other
widths, double spaces, line breaks, slashes, brackets, a bare landline)."""

from __future__ import annotations

import pytest

from fanpin.core.masking import free_text_mask

ID = "539901198001019998"


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        (f"联系13912345678，身份证{ID}", "联系139****5678，身份证539901********9998"),
        ("+8613912345678", "+86139****5678"),
        ("8613912345678", "86139****5678"),
        ("１３９１２３４５６７８", "１３９****５６７８"),
        ("139.1234.5678", "139.****.5678"),
        ("139—1234—5678", "139—****—5678"),
        ("139－1234－5678", "139－****－5678"),
        ("139  1234  5678", "139  ****  5678"),
        ("139\n1234\n5678", "139\n****\n5678"),
        ("5399011980\n01019998", "539*******\n****9998"),
        ("539901.19800101.9998", "539***.********.9998"),
        ("539901/19800101/9998", "539***/********/9998"),
        ("(0851)86801234", "(085*)****1234"),
        ("0851 8680 1234", "085* **** 1234"),
        ("86801234", "******34"),
        ("52272819900101123X", "522728********123X"),
        ("13912345678 2025", "139******** 2025"),  # a phone and a year: no more than a phone's mask
        # what stays: dates, amounts, counts, short numbers
        ("20250301 住院", "20250301 住院"),
        ("2025-03-01 复诊", "2025-03-01 复诊"),
        ("住院 3 天，花费 12,000 元，自付35000元", "住院 3 天，花费 12,000 元，自付35000元"),
        ("1、2、3 组", "1、2、3 组"),
    ],
)
def test_numbers_in_free_text_are_masked_however_written(typed: str, shown: str) -> None:
    assert free_text_mask(typed) == shown
