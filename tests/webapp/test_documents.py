"""Printable documents: every kind renders its legal contents, escaped, A4, without an app context."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from lxml import html as lxml_html

from handlers.documents import KINDS
from orchestration.domain.forms import FormRegistry
from orchestration.services.cases import DocumentView
from orchestration.store.models import Case, Document
from webapp.documents import cn_date, render_document, sex_from_id, show

FORMS = FormRegistry.load(Path(__file__).resolve().parents[2] / "forms")
CREATED = datetime(2026, 11, 27, 17, 30, tzinfo=UTC)  # 2026-11-28 01:30 in Shanghai
EVIL = "<script>alert(1)</script>"

PARTIES: dict[str, Any] = {
    "petitioner_name": "张三",
    "petitioner_id_number": "11010519491231002X",
    "petitioner_phone": "13800138000",
    "petitioner_address": "拉萨市城关区北京中路12号",
    "respondent_name": "李四",
    "respondent_type": "citizen",
    "respondent_id_number": "540102199001011234",
    "respondent_phone": "13900139000",
}

SAMPLES: dict[str, dict[str, Any]] = {
    "referral_letter": {
        **PARTIES,
        "facts": "双方因院墙归属发生争执。",
        "summary": f"宅基地纠纷{EVIL}",
        "request": "请尽快组织调解。",
        "to": "八廓街道人民调解委员会",
        "consent_documents": ["同意书.pdf"],
        "legal_documents": [],
        "contact_person": "王芳",
        "contact_phone": "0891-6321234",
        "approved_comments": "同意移送。",
    },
    "acceptance_receipt": {
        "by": "八廓街道人民调解委员会",
        "mediator": f"次仁{EVIL}",
        "accepted_at": "2026-11-05T10:30:00+08:00",
    },
    "return_letter": {"reason": f"已由人民法院立案受理{EVIL}", "from": "次仁"},
    "agreement": {
        **PARTIES,
        "mediation_org": "540102001-tw",
        "mediator": "次仁",
        "facts": f"李四翻修院墙越界约0.5米，负主要责任。{EVIL}",
        "terms": "一、李四于2026年12月15日前拆除越界部分院墙。\n二、李四补偿张三人民币伍佰元整，当场支付。",
        "effective_on": "2026-11-28",
        "judicial_confirmation_deadline": "2026-12-28T00:00:00+08:00",
        "judicial_confirmation_advised": True,
    },
    "oral_agreement_record": {
        **PARTIES,
        "mediation_org": "540102001-tw",
        "mediator": "次仁",
        "facts": "双方因装修噪音发生争执。",
        "terms": f"李四保证晚上十点后不再施工。{EVIL}",
        "effective_on": "2026-11-20",
        "judicial_confirmation_deadline": "2026-12-21T00:00:00+08:00",
        "judicial_confirmation_advised": False,
    },
    "termination_notice": {
        **PARTIES,
        "reason": f"调解期限届满，未达成调解协议{EVIL}",
        "other_routes": ["仲裁", "行政", "司法", "信访"],
    },
    "feedback_receipt": {
        "outcome": "failure",
        "fed_back_on": "2026-12-01",
        "failure_reasons": f"双方对补偿金额分歧较大。{EVIL}",
        "materials_returned": "移送函、调解记录、调解终止告知书",
    },
    "follow_up_record": {
        "visited_on": "2026-12-20",
        "visit_method": "in_person",
        "performance": "partly",
        "social_effect": f"纠纷基本平息。{EVIL}",
        "party_opinions": "希望尽快履行完毕。",
        "further_guidance": "已督促履行。",
    },
}


def _case() -> Case:
    return Case(id=1, case_no="XF-2026-000123", title="邻里宅基地院墙归属纠纷")


def _document(
    kind: str, content: dict[str, Any] | None = None, number: str = "(2026)人调字第7号"
) -> Document:
    title = KINDS[kind][0] if kind in KINDS else "其他文书"
    body = {
        "case_no": "XF-2026-000123",
        "matter": "邻里宅基地院墙归属纠纷",
        **(SAMPLES.get(kind, {}) if content is None else content),
    }
    return Document(id=1, case_id=1, kind=kind, title=title, number=number, created_at=CREATED, content=body)


def _view(
    document: Document,
    case: Case,
    orgs: dict[int, tuple[str, str]] | None = None,
    files: dict[str, str] | None = None,
) -> DocumentView:
    """The document as the case service hands it over; `orgs` is id -> (code, name)."""
    orgs = orgs or {}
    return DocumentView(
        document=document,
        case=case,
        organisations_by_id={org_id: name for org_id, (_, name) in orgs.items()},
        organisations_by_code=dict(orgs.values()),
        attachment_names=files or {},
        forms=FORMS,
    )


def _render(kind: str, content: dict[str, Any] | None = None) -> str:
    return render_document(_view(_document(kind, content), _case()))


def _text(page: str) -> str:
    """The page as a reader sees it: text only, whitespace collapsed."""
    tree = lxml_html.fromstring(page)
    for style in tree.iter("style", "script"):
        style.drop_tree()
    return re.sub(r"\s+", "", tree.text_content())


def test_every_handler_kind_has_a_sample() -> None:
    assert set(SAMPLES) == set(KINDS)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_kind_renders_a_printable_a4_page(kind: str) -> None:
    page = _render(kind)
    text = _text(page)
    assert page.startswith("<!doctype html>")
    assert "@page" in page and "size: A4" in page and "margin: 2cm" in page
    assert KINDS[kind][0] in text.replace("“", "").replace("”", "")
    assert "(2026)人调字第7号" in text
    assert "XF-2026-000123" in text
    # The print button is hidden in print and its script comes from the site, not inline (CSP).
    tree = lxml_html.fromstring(page)
    assert tree.xpath("//div[contains(@class,'no-print')]//button[@data-print]")
    assert "@media print" in page and ".no-print" in page
    assert [s.get("src") for s in tree.iter("script")] == ["/static/documents/print.js"]
    assert not any(a.startswith("on") for element in tree.iter() for a in element.attrib)
    # No CDN or other network resource.
    assert not re.search(r"(?:src|href)=\"(?:https?:)?//", page)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_user_text_is_escaped(kind: str) -> None:
    page = _render(kind)
    if EVIL in str(SAMPLES[kind].values()):
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert" not in page
    assert len(lxml_html.fromstring(page).xpath("//script")) == 1  # only print.js


def test_number_sits_at_the_top_right() -> None:
    tree = lxml_html.fromstring(_render("agreement"))
    number = tree.xpath("//main/*[1]")[0]
    assert number.get("class") == "doc-number" and number.text_content() == "(2026)人调字第7号"
    assert ".doc-number" in _render("agreement") and "text-align: right" in _render("agreement")


def test_agreement_has_the_contents_of_article_29_and_33() -> None:
    text = _text(_render("agreement"))
    # Parties' particulars: name, sex (from the ID number), ID, address, phone.
    for item in ("张三", "女", "11010519491231002X", "拉萨市城关区北京中路12号", "13800138000", "李四"):
        assert item in text, item
    # Facts, disputed matters and responsibility; the terms with how and when they are performed.
    assert "纠纷的主要事实、争议事项及各方当事人的责任" in text
    assert "负主要责任" in text
    assert "协议内容、履行方式和期限" in text
    assert "2026年12月15日前拆除越界部分院墙" in text
    # Takes effect on signature, seal or fingerprint and the mediator's signature under the committee's seal.
    assert "签名、盖章或者按指印" in text
    assert "人民调解员签名并加盖人民调解委员会印章之日起生效" in text
    assert "当事人各执一份，人民调解委员会留存一份" in text
    # Judicial confirmation within 30 days, with the computed last day.
    assert "30日内共同向人民法院申请司法确认" in text
    assert "2026年12月28日" in text
    assert "已告知双方当事人可以申请司法确认" in text
    # Signature and seal places; the date of effect.
    for place in (
        "甲方（签名、盖章或按指印）",
        "乙方（签名、盖章或按指印）",
        "人民调解员（签名）",
        "人民调解委员会印章",
    ):
        assert place in text, place
    assert "次仁" in text
    assert "2026年11月28日" in text


def test_agreement_with_an_organisation_as_respondent() -> None:
    content = {**SAMPLES["agreement"], "respondent_type": "legal_person", "respondent_name": "某物业公司"}
    text = _text(_render("agreement", content))
    assert "某物业公司" in text
    assert "法人" in text
    assert "法定代表人（主要负责人）" in text
    assert "住所" in text


def test_oral_agreement_record() -> None:
    text = _text(_render("oral_agreement_record"))
    assert "第二十八条" in text and "人民调解员记录协议内容" in text
    assert "30日内共同向人民法院申请司法确认" in text
    assert "2026年12月21日" in text
    assert "已告知" not in text  # not advised in this sample


def test_termination_notice_names_the_other_routes() -> None:
    text = _text(_render("termination_notice"))
    assert "第二十六条" in text and "终止调解" in text
    assert "调解期限届满，未达成调解协议" in text
    for route in ("仲裁", "行政", "司法", "信访"):
        assert f"{route}：" in text, route
    assert "向人民法院提起诉讼" in text and "申请仲裁" in text
    assert "张三、李四：" in text
    assert "2026年11月28日" in text  # created 2026-11-27 17:30 UTC, already the 28th in Shanghai


def test_termination_notice_without_stored_routes_names_all_four() -> None:
    content = {k: v for k, v in SAMPLES["termination_notice"].items() if k != "other_routes"}
    text = _text(_render("termination_notice", content))
    for route in ("仲裁", "行政", "司法", "信访"):
        assert f"{route}：" in text


def test_referral_letter() -> None:
    text = _text(_render("referral_letter"))
    assert "访调对接" in text and "移送函" in text
    assert "八廓街道人民调解委员会：" in text
    assert "公民" in text  # respondent_type code shown with its label
    assert "3日内" in text and "15日内" in text and "5个工作日内" in text
    assert "同意书.pdf" in text and "王芳" in text and "0891-6321234" in text
    assert "分管领导审签" in text


def test_codes_are_shown_with_their_labels() -> None:
    text = _text(_render("follow_up_record"))
    assert "上门回访" in text and "部分履行" in text
    assert "in_person" not in text and "partly" not in text
    assert "2026年12月20日" in text


def test_feedback_receipt_success_and_failure() -> None:
    failure = _text(_render("feedback_receipt"))
    assert "调解不成功" in failure and "按信访程序办理" in failure and "双方对补偿金额分歧较大" in failure
    success = _text(_render("feedback_receipt", {"outcome": "success", "fed_back_on": "2026-12-01"}))
    assert "调解成功，达成调解协议" in success and "人民调解协议书复印件" in success


def test_missing_content_prints_blanks_to_fill_in() -> None:
    page = render_document(_view(_document("agreement", {}), _case()))
    assert 'class="blank"' in page
    assert "年　　月　　日" in page


def test_unknown_kind_lists_its_content() -> None:
    content = {"petitioner_name": "张三", "visit_method": "phone", "odd_key": f"值{EVIL}"}
    page = render_document(_view(_document("mystery", content), _case()))
    text = _text(page)
    for key in ("petitioner_name", "visit_method", "odd_key", "case_no"):
        assert key in text
    assert "信访人姓名" in text and "电话回访" in text and "案件编号" in text
    assert "&lt;script&gt;" in page


def test_names_come_from_the_organisations_and_files_read_with_the_document() -> None:
    case = _case()
    case.petition_office_id, case.mediation_org_id = 1, 2
    orgs = {1: ("540102-xf", "城关区信访局"), 2: ("540102001-tw", "八廓街道人民调解委员会")}
    files = {"7": "调解同意书.pdf"}
    agreement = _text(render_document(_view(_document("agreement"), case, orgs, files)))
    assert "八廓街道人民调解委员会" in agreement and "540102001-tw" not in agreement
    referral_letter = _document("referral_letter", {**SAMPLES["referral_letter"], "consent_documents": ["7"]})
    referral = _text(render_document(_view(referral_letter, case, orgs, files)))
    assert "城关区信访局" in referral and "调解同意书.pdf" in referral
    notice = _text(render_document(_view(_document("termination_notice"), case, orgs, files)))
    assert "八廓街道人民调解委员会" in notice


def test_sex_from_id() -> None:
    assert sex_from_id("11010519491231002X") == "女"
    assert sex_from_id("11010519491231002x") == "女"
    assert sex_from_id("110105194912310021") is None  # wrong check digit
    assert sex_from_id("1101**********002X") is None  # masked
    assert sex_from_id(None) is None


def test_dates_and_values() -> None:
    assert cn_date("2026-11-28") == '<span class="date">2026年11月28日</span>'
    assert "2026年11月28日" in cn_date("2026-11-27T16:30:00+00:00")
    assert "2026年11月28日" in cn_date(CREATED)
    assert cn_date("2026-11-01T00:00:00") == '<span class="date">2026年11月1日</span>'
    assert cn_date("下月初") == "下月初" and cn_date("<b>") == "&lt;b&gt;"
    assert "年" in cn_date(None)
    assert show(["a", "<b>"]) == "a、&lt;b&gt;"
    assert show("一\n二") == "一<br>二"
    assert show(True) == "是"
