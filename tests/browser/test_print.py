"""Printing: each document printed to PDF by Chromium on A4 — a one-page format on one page, and wherever
a document breaks, its signatures and seal on the page of the text they sign (the last words before the
signature block)."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page
from pypdf import PdfReader

from handlers.documents import KINDS
from tests.document_samples import SAMPLES, render

# Texts as long as a clerk or a mediator usually writes them (the samples are short).
FACTS = (
    "2026年9月，李四在翻修自家院墙时将院墙向东延伸约0.5米，占用了张三家门前的通道。张三认为该通道属于两家"
    "共用，多次与李四协商要求恢复原状未果，双方发生争吵，并多次到街道反映。李四认为其翻修时依照的是原有地基，"
    "不存在占用问题。经社区干部现场查看，双方对院墙原址的位置说法不一，矛盾有激化的可能。"
)
TYPICAL: dict[str, dict[str, Any]] = {
    "referral_letter": {
        "summary": FACTS,
        "facts": FACTS[:120],
        "request": "请依法组织双方调解，于调解结束后按期反馈调解结果。",
        "approved_by": "李建国",
        "approved_on": "2026-11-03",
    },
    "agreement": {
        "facts": FACTS,
        "terms": "一、李四于2026年12月15日前拆除越界部分院墙，恢复通道原状。\n" * 3,
    },
    "oral_agreement_record": {"facts": FACTS},
    "termination_notice": {"reason": FACTS[:160]},
    "return_letter": {"reason": FACTS[:200]},
    "feedback_receipt": {"failure_reasons": FACTS[:200]},
    "follow_up_record": {"social_effect": FACTS[:150], "party_opinions": FACTS[:100]},
    "session_record": {"record": FACTS * 2},
    "intake_register": {"facts": FACTS},
    "risk_report": {"description": FACTS},
    "consultation_minutes": {"petition_opinion": FACTS[:150], "justice_opinion": FACTS[:150]},
    "extension_notice": {"reason": FACTS[:150]},
}

# Marks, in ASCII tiny print (the PDF's text layer maps some ideographs to radical forms), the end of the
# text the signature block signs and each signature label and seal of the block; returns their marks.
MARK = """() => {
  const block = document.querySelector(".signatures");
  const mark = (el, text) => {
    const span = document.createElement("span");
    span.textContent = text;
    span.style.cssText = "font: 2px sans-serif; color: #fff;";
    el.appendChild(span);
    return text;
  };
  let signed = block.querySelector("p") || block.previousElementSibling;
  while (signed && !signed.textContent.trim()) { signed = signed.previousElementSibling; }
  const parts = [...block.querySelectorAll(".sign-label, .seal-note")];
  return {signed: mark(signed, "QQSIGNEDQQ"), parts: parts.map((el, i) => mark(el, `QQPART${i}QQ`))};
}"""


@pytest.fixture
def sheet(browser: Browser) -> Iterator[Page]:
    page = browser.new_page()
    yield page
    page.close()


def _pages(pdf: bytes) -> list[str]:
    return [re.sub(r"\s+", "", page.extract_text() or "") for page in PdfReader(io.BytesIO(pdf)).pages]


def _page_of(pages: list[str], text: str) -> int:
    found = [index for index, page in enumerate(pages) if text in page]
    assert found, f"“{text}” is on no page"
    return found[-1]


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_document_prints_on_a4_with_its_signatures(kind: str, sheet: Page) -> None:
    sheet.set_content(render(kind, {**SAMPLES[kind], **TYPICAL.get(kind, {})}))
    marks = sheet.evaluate(MARK)
    pages = _pages(sheet.pdf(format="A4", prefer_css_page_size=True))
    if KINDS[kind].one_page:
        assert len(pages) == 1, f"{kind} prints on {len(pages)} pages"
    signed = _page_of(pages, marks["signed"])
    assert marks["parts"], kind
    for part in marks["parts"]:
        assert _page_of(pages, part) == signed, (kind, part)
