"""The text layer of Chromium's PDF files: Noto Sans CJK draws a Kangxi radical and its ideograph
with one glyph (⼈ and 人, ⼾ and 户), and Chromium's PDF writer names such a glyph by the radical, so
a search for 人口 or a copied name would not match.  ``pdf_text_fix`` rewrites those names in the
file's ToUnicode maps with pypdf (an incremental update: the pages are not rewritten)."""

from __future__ import annotations

import io
import re
from typing import Any

# The radicals whose glyph in Noto Sans CJK SC is that of an ideograph, with that ideograph (read
# from the font's character map; the same pairs hold for every CJK font that shares the glyphs).
RADICAL_PAIRS = (
    "⺂乛 ⺃乚 ⺅亻 ⺉刂 ⺏尣 ⺐尢 ⼪尢 ⺒巳 ⺓幺 ⼳幺 ⺔彑 ⺕彐 ⺖忄 ⺘扌 ⺙攵 ⺛旡 ⺞歺 ⺟母 ⺠民 ⺡氵 "
    "⺣灬 ⺤爫 ⺦丬 ⺨犭 ⺭礻 ⺯糹 ⺰纟 ⺱罓 ⺹耂 ⺺肀 ⺾艹 ⻂衤 ⻅见 ⻆角 ⻈讠 ⻉贝 ⻋车 ⻌辶 ⻐钅 ⻑長 "
    "⾧長 ⻒镸 ⻓长 ⻔门 ⻖阝 ⻘青 ⻙韦 ⻚页 ⻛风 ⻜飞 ⻝食 ⾷食 ⻟飠 ⻠饣 ⻢马 ⻣骨 ⻤鬼 ⿁鬼 ⻥鱼 ⻦鸟 "
    "⻧卤 ⻨麦 ⻩黄 ⻪黾 ⻫斉 ⻬齐 ⻮齿 ⻯竜 ⻰龙 ⻱龜 ⻲亀 ⻳龟 ⼀一 ⼁丨 ⼂丶 ⼃丿 ⼄乙 ⼅亅 ⼆二 ⼇亠 "
    "⼈人 ⼉儿 ⼊入 ⼋八 ⼌冂 ⼍冖 ⼎冫 ⼏几 ⼐凵 ⼑刀 ⼒力 ⼓勹 ⼔匕 ⼕匚 ⼖匸 ⼗十 ⼘卜 ⼙卩 ⼚厂 ⼛厶 "
    "⼜又 ⼝口 ⼞囗 ⼟土 ⼠士 ⼡夂 ⼢夊 ⼣夕 ⼤大 ⼥女 ⼦子 ⼧宀 ⼨寸 ⼩小 ⼫尸 ⼬屮 ⼭山 ⼮巛 ⼯工 ⼰己 "
    "⼱巾 ⼲干 ⼴广 ⼵廴 ⼶廾 ⼷弋 ⼸弓 ⼺彡 ⼻彳 ⼼心 ⼽戈 ⼾户 ⼿手 ⽀支 ⽁攴 ⽂文 ⽃斗 ⽄斤 ⽅方 ⽆无 "
    "⽇日 ⽈曰 ⽉月 ⽊木 ⽋欠 ⽌止 ⽍歹 ⽎殳 ⽏毋 ⽐比 ⽑毛 ⽒氏 ⽓气 ⽔水 ⽕火 ⽖爪 ⽗父 ⽘爻 ⽙爿 ⽚片 "
    "⽛牙 ⽜牛 ⽝犬 ⽞玄 ⽟玉 ⽠瓜 ⽡瓦 ⽢甘 ⽣生 ⽤用 ⽥田 ⽦疋 ⽧疒 ⽨癶 ⽩白 ⽪皮 ⽫皿 ⽬目 ⽭矛 ⽮矢 "
    "⽯石 ⽰示 ⽱禸 ⽲禾 ⽳穴 ⽴立 ⽵竹 ⽶米 ⽷糸 ⽸缶 ⽹网 ⽺羊 ⽻羽 ⽼老 ⽽而 ⽿耳 ⾀聿 ⾁肉 ⾂臣 ⾃自 "
    "⾄至 ⾅臼 ⾆舌 ⾇舛 ⾈舟 ⾉艮 ⾊色 ⾋艸 ⾌虍 ⾍虫 ⾎血 ⾏行 ⾐衣 ⾑襾 ⾒見 ⾔言 ⾕谷 ⾖豆 ⾗豕 ⾘豸 "
    "⾙貝 ⾚赤 ⾛走 ⾜足 ⾝身 ⾞車 ⾟辛 ⾠辰 ⾡辵 ⾢邑 ⾣酉 ⾤釆 ⾥里 ⾦金 ⾨門 ⾩阜 ⾪隶 ⾫隹 ⾬雨 ⾭靑 "
    "⾮非 ⾯面 ⾰革 ⾱韋 ⾲韭 ⾳音 ⾴頁 ⾵風 ⾶飛 ⾸首 ⾹香 ⾺馬 ⾼高 ⾽髟 ⾾鬥 ⾿鬯 ⿀鬲 ⿂魚 ⿃鳥 ⿄鹵 "
    "⿅鹿 ⿆麥 ⿇麻 ⿈黃 ⿉黍 ⿊黑 ⿋黹 ⿌黽 ⿍鼎 ⿎鼓 ⿏鼠 ⿑齊 ⿒齒 ⿓龍 ⿕龠"
)
RADICAL_TO_IDEOGRAPH = {ord(pair[0]): pair[1] for pair in RADICAL_PAIRS.split()}


def text_fold(text: str) -> str:
    """``text`` with every radical that stands for an ideograph replaced by that ideograph."""
    return text.translate(RADICAL_TO_IDEOGRAPH)


def _unicode_fixed(hex_digits: bytes) -> bytes:
    text = bytes.fromhex(hex_digits.decode()).decode("utf-16-be", "surrogatepass")
    fixed = text_fold(text)
    return hex_digits if fixed == text else fixed.encode("utf-16-be", "surrogatepass").hex().upper().encode()


_BFCHAR = re.compile(rb"(beginbfchar)(.*?)(endbfchar)", re.S)
_BFRANGE = re.compile(rb"(beginbfrange)(.*?)(endbfrange)", re.S)
_PAIR = re.compile(rb"(<[0-9A-Fa-f]+>)\s*<([0-9A-Fa-f]+)>")
_TO_UNICODE_REF = re.compile(rb"/ToUnicode (\d+) 0 R")
_RANGE = re.compile(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>")


def cmap_text_fix(data: bytes) -> bytes:
    """A ToUnicode CMap whose targets name ideographs, not radicals: ``bfchar`` targets are
    rewritten; a ``bfrange`` that reaches a radical becomes single ``bfchar`` entries."""
    data = _BFCHAR.sub(
        lambda m: (
            m.group(1)
            + _PAIR.sub(lambda p: p.group(1) + b" <" + _unicode_fixed(p.group(2)) + b">", m.group(2))
            + m.group(3)
        ),
        data,
    )
    singles: list[bytes] = []

    def ranges(m: re.Match[bytes]) -> bytes:
        kept = []
        for low, high, start in _RANGE.findall(m.group(2)):
            first, last, target = int(low, 16), int(high, 16), int(start, 16)
            if any(target + i in RADICAL_TO_IDEOGRAPH for i in range(last - first + 1)):
                width = len(low)
                singles.extend(
                    b"<%s> <%04X>" % (f"{first + i:0{width}X}".encode(), ord(text_fold(chr(target + i))))
                    for i in range(last - first + 1)
                )
            else:
                kept.append(b"<%s> <%s> <%s>" % (low, high, start))
        return m.group(1) + b"\n" + b"\n".join(kept) + b"\n" + m.group(3)

    data = _BFRANGE.sub(ranges, data)
    if singles:
        block = b"%d beginbfchar\n%s\nendbfchar\nendcmap" % (len(singles), b"\n".join(singles))
        data = data.replace(b"endcmap", block, 1)
    return data


def pdf_text_fix(pdf: bytes) -> bytes:
    """``pdf`` with its fonts' ToUnicode maps naming ideographs, not radicals (see above).  The maps
    are found by their references (Chromium writes its font dictionaries as plain objects; a file
    that keeps them in object streams is walked page by page)."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import StreamObject

    writer = PdfWriter(PdfReader(io.BytesIO(pdf)), incremental=True)
    numbers = {int(n) for n in _TO_UNICODE_REF.findall(pdf)}
    found: list[Any] = []
    if numbers:
        found = [writer.get_object(n) for n in sorted(numbers)]
    else:
        for page in writer.pages:
            for ref in page.get("/Resources", {}).get("/Font", {}).values():
                found.append(ref.get_object().get("/ToUnicode"))
    streams = {id(s): s for s in (f.get_object() for f in found if f is not None) if isinstance(s, StreamObject)}
    changed = 0
    for stream in streams.values():
        data = stream.get_data()
        fixed = cmap_text_fix(data)
        if fixed != data:
            stream.set_data(fixed)
            changed += 1
    if not changed:
        return pdf
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
