"""The PDF text layer: Chromium names glyphs shared by a CJK radical and an ideograph (⼾/户, ⼈/人)
by the radical; ``fanpin.web.pdf`` rewrites the fonts' ToUnicode maps so that search and copy
find the ideographs."""

from __future__ import annotations

from fanpin.web.pdf import RADICAL_TO_IDEOGRAPH, cmap_text_fix, text_fold

CMAP = b"""/CIDInit /ProcSet findresource begin
12 dict begin
begincmap
1 begincodespacerange
<00> <FF>
endcodespacerange
3 beginbfchar
<7B> <2F4C>
<7C> <6237>
<7D> <00410042>
endbfchar
2 beginbfrange
<10> <12> <2F3D>
<20> <21> <4E2D>
endbfrange
endcmap
CMapName currentdict /CMap defineresource pop
end
end"""


def test_common_characters_are_in_the_table() -> None:
    assert text_fold("⼾主⼈⼝⽩⻔⺠") == "户主人口白门民"
    assert len(RADICAL_TO_IDEOGRAPH) > 250
    assert all(0x2E80 <= cp <= 0x2FDF for cp in RADICAL_TO_IDEOGRAPH)


def test_cmap_targets_name_ideographs() -> None:
    fixed = cmap_text_fix(CMAP)
    assert b"<7B> <6B62>" in fixed  # ⽌ → 止
    assert b"<7C> <6237>" in fixed and b"<7D> <00410042>" in fixed  # left as they were
    # a range that reaches a radical becomes single entries (⼽⼾⼿ → 戈户手); the others stay ranges
    assert b"<10> <12> <2F3D>" not in fixed
    assert b"<10> <6208>" in fixed and b"<11> <6237>" in fixed and b"<12> <624B>" in fixed
    assert b"<20> <21> <4E2D>" in fixed
    assert fixed.count(b"endcmap") == 1 and cmap_text_fix(fixed) == fixed
