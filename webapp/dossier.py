"""The case file (卷宗) as one PDF for the archive (人民调解法第二十七条): a cover, the contents list with
page numbers, every document as issued and every attachment in the order they came into the case, and
the 卷宗情况说明 (备考表) at the end.

WeasyPrint lays out the cover, the documents and a page for each image attachment in one pass, so the
contents list gets its page numbers from ``target-counter``. A PDF attachment keeps its own pages: the
pass reserves one numbered page for each of them, and pypdf then draws the attachment's page, scaled to
fit, onto the reserved page. Other files are embedded in the PDF as file attachments and listed.
"""

from __future__ import annotations

import base64
import io
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup
from pypdf import PdfReader, PdfWriter, Transformation
from pypdf.errors import PdfReadError

from orchestration.services.documents import DocumentView, Dossier, DossierFile
from webapp.documents import TEMPLATE_DIR, cn_date, render_document, show, stylesheet
from webapp.formatting import OUTCOMES

DOSSIER_CSS = Path(__file__).resolve().parent / "static" / "documents" / "dossier.css"
# The documents' stylesheet is the browsers' too: WeasyPrint warns, on every export, of the screen-only
# rules and the vertical table headers it skips. Those are not faults of the case file.
logging.getLogger("weasyprint").setLevel(logging.ERROR)

IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
A4 = (595.28, 841.89)  # points
MARGIN = 56.69  # 2 cm: the documents' own margin, inside which an attachment page is drawn
FOOTER = 28.0  # room kept for the page number under an attachment page


@dataclass(frozen=True)
class Entry:
    """One line of the contents list and the part of the file it points to."""

    anchor: str
    title: str
    number: str
    day: Any
    note: str
    html: Markup  # what the layout pass draws for it
    pdf: bytes | None = None  # a PDF attachment's own pages, drawn onto the reserved pages
    pages: int = 1
    embed: DossierFile | None = None  # a file that cannot be a page, embedded in the PDF as a file


def _document_entry(view: DocumentView) -> Entry:
    document = view.document
    if view.superseded_by:
        note = f"已被{view.superseded_by}更正取代"
    elif view.supersedes:
        note = f"更正{view.supersedes}"
    else:
        note = ""
    return Entry(
        anchor=f"document-{document.id}",
        title=document.title,
        number=document.number,
        day=document.created_at,
        note=note,
        html=Markup(render_document(view, embedded=True)),
    )


def _pdf_pages(content: bytes) -> int | None:
    try:
        return len(PdfReader(io.BytesIO(content)).pages)
    except (PdfReadError, ValueError, OSError):
        return None


def _file_entry(file: DossierFile, env: Environment) -> Entry:
    anchor = f"attachment-{file.id}"
    title = f"附件：{file.filename}"
    pages = _pdf_pages(file.content) if file.content_type == "application/pdf" else None
    if pages:
        reserved = env.get_template("dossier_reserved.html").render(anchor=anchor, pages=pages, file=file)
        return Entry(
            anchor,
            title,
            "",
            file.uploaded_at,
            f"共{pages}页",
            Markup(reserved),
            pdf=file.content,
            pages=pages,
        )
    if file.content_type in IMAGE_TYPES:
        data = base64.b64encode(file.content).decode("ascii")
        image = env.get_template("dossier_image.html").render(
            anchor=anchor, file=file, src=f"data:{file.content_type};base64,{data}"
        )
        return Entry(anchor, title, "", file.uploaded_at, "图片", Markup(image))
    listed = env.get_template("dossier_embedded.html").render(anchor=anchor, file=file)
    return Entry(anchor, title, "", file.uploaded_at, "电子文件附于本PDF", Markup(listed), embed=file)


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATE_DIR)), autoescape=True)
    env.filters.update(cn_date=cn_date, show=show)
    return env


def entries(dossier: Dossier) -> list[Entry]:
    """The documents and attachments in the order they came into the case (a document issued in the
    step that stored a file comes after it)."""
    env = _env()
    timed: list[tuple[datetime, int, Entry]] = [
        (view.document.created_at, 1, _document_entry(view)) for view in dossier.documents
    ]
    timed += [(file.uploaded_at, 0, _file_entry(file, env)) for file in dossier.files]
    return [entry for _, _, entry in sorted(timed, key=lambda item: (item[0], item[1]))]


def dossier_html(dossier: Dossier, parts: list[Entry]) -> str:
    return (
        _env()
        .get_template("dossier.html")
        .render(
            dossier=dossier,
            case=dossier.case,
            data=dossier.data,
            organisations=dossier.organisations,
            outcome=OUTCOMES.get(dossier.case.outcome or "", dossier.case.outcome or ""),
            entries=parts,
            css=stylesheet(),
            dossier_css=Markup(DOSSIER_CSS.read_text(encoding="utf-8")),
            superseded=sum(1 for view in dossier.documents if view.superseded_by),
            reserved_pages=sum(entry.pages for entry in parts if entry.pdf is not None),
        )
    )


def dossier_pdf(dossier: Dossier) -> bytes:
    """The case file as one PDF."""
    from weasyprint import HTML, Attachment  # imported here: the web app starts without loading it

    parts = entries(dossier)
    embedded = [
        Attachment(string=e.embed.content, name=e.embed.filename, description=e.embed.filename)
        for e in parts
        if e.embed is not None
    ]
    laid_out = HTML(string=dossier_html(dossier, parts)).render()
    reserved = _reserved_pages(laid_out.pages, parts)
    pdf = laid_out.write_pdf(attachments=embedded)
    return _draw_attachments(pdf, reserved) if reserved else pdf


def _reserved_pages(pages: list[Any], parts: list[Entry]) -> dict[int, tuple[bytes, int]]:
    """Output page index -> (attachment PDF, its page index), from the anchors on each laid-out page."""
    wanted: dict[str, tuple[bytes, int]] = {}
    for entry in parts:
        if entry.pdf is not None:
            wanted.update({f"{entry.anchor}-page-{n}": (entry.pdf, n) for n in range(entry.pages)})
    return {index: wanted[a] for index, page in enumerate(pages) for a in page.anchors if a in wanted}


def _draw_attachments(pdf: bytes, reserved: Mapping[int, tuple[bytes, int]]) -> bytes:
    writer = PdfWriter(clone_from=io.BytesIO(pdf))
    readers: dict[int, PdfReader] = {}
    for index, (content, page_no) in reserved.items():
        reader = readers.setdefault(id(content), PdfReader(io.BytesIO(content)))
        source = reader.pages[page_no]
        width, height = float(source.mediabox.width), float(source.mediabox.height)
        box_w, box_h = A4[0] - 2 * MARGIN, A4[1] - 2 * MARGIN - FOOTER
        scale = min(box_w / width, box_h / height, 1.0)
        x = MARGIN + (box_w - width * scale) / 2 - float(source.mediabox.left) * scale
        y = MARGIN + FOOTER + (box_h - height * scale) / 2 - float(source.mediabox.bottom) * scale
        writer.pages[index].merge_transformed_page(source, Transformation().scale(scale).translate(x, y))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
