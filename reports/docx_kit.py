"""Word documents as Chinese offices print them: A4, 宋体 body and 黑体 headings (Latin text in
Times New Roman / Arial), black headings, grid tables with a repeated header row. Pure helpers
over python-docx; what a report says is up to its own module.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.oxml.table import CT_Tc
from docx.shared import Cm, Pt, RGBColor
from docx.styles.style import ParagraphStyle
from docx.table import Table

from i18n.labels import Lang

# (Latin, East Asian) font per role; Word, WPS and LibreOffice substitute what is missing.
BODY_FONTS: dict[Lang, tuple[str, str]] = {"zh": ("Times New Roman", "宋体"), "en": ("Calibri", "宋体")}
HEADING_FONTS = ("Arial", "黑体")
BODY_PT = 10.5  # 五号
TABLE_PT = 9.0  # 小五
HEADER_FILL = "DCE6F1"
BLACK = RGBColor(0, 0, 0)
# Characters XML 1.0 cannot hold (a dead letter's payload may be any bytes).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """``text`` with the characters a .docx cannot store shown as U+FFFD."""
    return _NOT_XML.sub("\ufffd", text)


def _paragraph_style(doc: DocumentObject, name: str) -> ParagraphStyle:
    style = doc.styles[name]
    assert isinstance(style, ParagraphStyle), f"{name} is not a paragraph style"
    return style


def _set_fonts(style: ParagraphStyle, fonts: tuple[str, str], size_pt: float) -> None:
    rpr = style.element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.insert(0, rfonts)
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        rfonts.attrib.pop(qn(theme), None)  # a theme font would win over the names below
    latin, east_asian = fonts
    for attr, name in (("w:ascii", latin), ("w:hAnsi", latin), ("w:cs", latin), ("w:eastAsia", east_asian)):
        rfonts.set(qn(attr), name)
    style.font.size = Pt(size_pt)


def new_document(lang: Lang, title: str) -> DocumentObject:
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2.2)
    section.top_margin, section.bottom_margin = Cm(2.5), Cm(2.2)
    doc.core_properties.title = title
    doc.core_properties.language = "zh-CN" if lang == "zh" else "en"
    _set_fonts(_paragraph_style(doc, "Normal"), BODY_FONTS[lang], BODY_PT)
    for name, size in (("Title", 18.0), ("Heading 1", 14.0), ("Heading 2", 12.0), ("Caption", 9.0)):
        style = _paragraph_style(doc, name)
        _set_fonts(style, HEADING_FONTS, size)
        style.font.color.rgb = BLACK
        style.font.italic = False
    title_style = _paragraph_style(doc, "Title")
    title_style.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title_style.element.get_or_add_pPr().remove_all("w:pBdr")  # the template underlines titles in blue
    return doc


def centred(doc: DocumentObject, text: str, style: str | None = None) -> None:
    doc.add_paragraph(xml_safe(text), style=style).alignment = WD_ALIGN_PARAGRAPH.CENTER


def _shade(cell_element: CT_Tc, fill: str) -> None:
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    cell_element.get_or_add_tcPr().append(shading)


def add_table(doc: DocumentObject, headers: Sequence[str], rows: Sequence[Sequence[str]], *,
              numeric_from: int | None = None, widths_cm: Sequence[float] | None = None) -> Table:
    """A grid table; columns from ``numeric_from`` on are numbers (right-aligned, header too)."""
    table: Table = doc.add_table(rows=1 + len(rows), cols=len(headers))  # python-docx leaves it unannotated
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    header = table.rows[0]
    header_props = header._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")  # the header row is printed again on every page the table spans
    header_props.append(repeat)
    for r, values in enumerate([list(headers), *map(list, rows)]):
        for c, value in enumerate(values):
            cell = table.cell(r, c)
            paragraph = cell.paragraphs[0]
            run = paragraph.add_run(xml_safe(value))
            run.font.size = Pt(TABLE_PT)
            run.bold = r == 0
            if numeric_from is not None and c >= numeric_from:
                paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            if r == 0:
                _shade(cell._tc, HEADER_FILL)
    if widths_cm is not None:
        for row in table.rows:
            for cell, width in zip(row.cells, widths_cm, strict=True):
                cell.width = Cm(width)
    return table


def to_bytes(doc: DocumentObject) -> bytes:
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
