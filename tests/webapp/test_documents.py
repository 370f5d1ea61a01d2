"""Printable documents: every kind renders its legal contents, escaped, A4, without an app context."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from lxml import html as lxml_html

from handlers.documents import KINDS
from orchestration.services.documents import ActView
from tests.document_samples import (
    CREATED,
    EVIL,
    PARTIES,
    SAMPLES,
    SNAPSHOT,
    document,
    render,
    view,
)
from tests.handlers.fakes import MEDIATION_COMMITTEE, FakeContext, run, ten_day_timers
from webapp.documents import cn_date, render_document, sex_from_id, show


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
    page = render(kind)
    text = _text(page)
    assert page.startswith("<!doctype html>")
    assert "@page" in page and "size: A4" in page and "margin: 2cm" in page
    assert KINDS[kind].title.replace("“", "").replace("”", "") in text.replace("“", "").replace("”", "")
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
    page = render(kind)
    if EVIL in str(SAMPLES[kind].values()):
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert" not in page
    assert len(lxml_html.fromstring(page).xpath("//script")) == 1  # only print.js


def test_number_sits_at_the_top_right() -> None:
    tree = lxml_html.fromstring(render("agreement"))
    number = tree.xpath("//main/*[1]")[0]
    assert number.get("class") == "doc-number" and number.text_content() == "(2026)人调字第7号"
    assert ".doc-number" in render("agreement") and "text-align: right" in render("agreement")


def test_agreement_has_the_contents_of_article_29_and_33() -> None:
    text = _text(render("agreement"))
    # Every party with name, sex (given, or from the ID number), ethnicity, age or birth date, occupation,
    # ID, address; an organisation with its representative.
    for item in ("张三", "女", "藏族", "1949年12月31日", "个体工商户", "11010519491231002X", "北京中路12号"):
        assert item in text, item
    for item in (
        "李四",
        "男",
        "汉族",
        "45岁",
        "拉萨某物业服务有限公司",
        "王五（总经理）",
        "91540100MA6T000000",
    ):
        assert item in text, item
    # Several on one side are numbered; each signs by name.
    for place in ("甲方（签名、盖章或按指印）", "乙方1（签名、盖章或按指印）", "乙方2（签名、盖章或按指印）"):
        assert place in text, place
    # Facts, disputed matters, each side's responsibility; the terms; manner and time limit apart.
    assert "纠纷的主要事实和争议事项" in text and "院墙越界部分是否拆除及补偿金额" in text
    assert "各方当事人的责任" in text and "李四负主要责任" in text
    assert "李四补偿张三人民币伍佰元整" in text
    assert "履行方式拆除后恢复原状；补偿款以银行转账支付。" in text
    assert "履行期限2026年12月15日" in text
    # Copies: one per party and one for the archive.
    assert "一式4份，当事人各执一份" in text and "留存一份归档" in text
    # Effect on signatures and the seal the body really has; 司法确认 names the court and the 30 days.
    assert "人民调解员签名并加盖八廓街道人民调解委员会印章之日起生效" in text
    assert "30日内" in text and "基层人民法院申请司法确认" in text and "拉萨市城关区人民法院" in text
    assert "2026年12月28日" in text
    assert "人民调解员（签名）" in text and "次仁" in text
    assert "2026年11月28日" in text


def test_a_guidance_centre_seals_as_what_it_is() -> None:
    centre = {"name": "城关区人民调解工作指导中心“访调对接”工作室", "seal_name": "城关区人民调解工作指导中心"}
    page = render_document(view(document("agreement", snapshot={**SNAPSHOT, "issuer": centre})))
    text = _text(page)
    assert "加盖城关区人民调解工作指导中心印章" in text
    assert "人民调解委员会" not in text


def test_agreement_of_content_before_party_lists() -> None:
    content = {**PARTIES, "respondent_type": "legal_person", "respondent_name": "某物业公司"}
    text = _text(render("agreement", content))
    assert "张三" in text and "某物业公司" in text
    assert "法定代表人或代理人" in text and "住所" in text
    assert "一式3份" in text


def test_the_signed_scan_is_shown_once_attached() -> None:
    assert "已签署" not in _text(render("agreement"))
    signed = ActView("signed", {"files": ["协议书签署件.pdf"]}, CREATED, "次仁卓玛")
    text = _text(render("agreement", acts=[signed]))
    assert "已签署" in text and "协议书签署件.pdf" in text and "次仁卓玛" in text


def test_oral_agreement_record_does_not_promise_judicial_confirmation() -> None:
    text = _text(render("oral_agreement_record"))
    assert "第二十八条" in text and "人民调解员对口头协议的记录，不是调解协议书" in text
    assert "应当先由调解组织制作书面调解协议书" in text
    assert "申请司法确认期限" not in text and "2026年12月21日" not in text
    assert "即时履行" in text


def test_termination_notice_names_the_other_routes() -> None:
    text = _text(render("termination_notice"))
    assert "第二十六条" in text and "终止调解" in text
    assert "调解期限届满，未达成调解协议" in text
    for route in ("仲裁", "行政", "司法", "信访"):
        assert f"{route}：" in text, route
    assert "向人民法院提起诉讼" in text and "申请仲裁" in text
    assert "张三、李四：" in text
    assert "2026年11月28日" in text  # created 2026-11-27 17:30 UTC, already the 28th in Shanghai


def test_termination_notice_states_the_feedback_period_it_was_issued_with() -> None:
    """The period the diagram's timer counted at termination; a notice issued before it was recorded reads
    as it was issued."""
    edited = _text(
        render("termination_notice", {**SAMPLES["termination_notice"], "feedback_period": "2个工作日"})
    )
    assert "本组织将于终止调解之日起2个工作日内将调解情况和不成功的原因反馈信访部门" in edited
    older = {key: value for key, value in SAMPLES["termination_notice"].items() if key != "feedback_period"}
    assert "本组织将于终止调解之日起3个工作日内将调解情况和不成功的原因反馈信访部门" in _text(
        render("termination_notice", older)
    )


def test_termination_notice_without_stored_routes_names_all_four() -> None:
    content = {k: v for k, v in SAMPLES["termination_notice"].items() if k != "other_routes"}
    text = _text(render("termination_notice", content))
    for route in ("仲裁", "行政", "司法", "信访"):
        assert f"{route}：" in text


def test_referral_letter() -> None:
    text = _text(render("referral_letter"))
    assert "访调对接" in text and "移送函" in text
    assert "八廓街道人民调解委员会：" in text
    assert "公民" in text  # respondent_type code shown with its label
    assert "3日内" in text and "15日内" in text and "5个工作日内" in text and "3个工作日内" in text
    assert "同意书.pdf" in text and "王芳" in text and "0891-6321234" in text
    assert "分管领导审签" in text


LETTER_TEXT = (
    "认为不属于人民调解范围、不予受理的，请于{review}内退回我单位，双方意见不一致的，由信访部门和司法行政部门"
    "会商处理。调解一般应在受理之日起{mediation}内完成，确需延长的最长不超过30日。调解成功的，请于调解结束后"
    "{success_feedback}内送达人民调解协议书复印件；调解不成功的，请于终止调解后{failure_feedback}内反馈情况及原因"
)


def test_the_referral_letter_states_the_periods_it_was_issued_with() -> None:
    """The periods the diagram's timers counted at issue, in their own units; a letter issued before the
    letter held them reads as it was issued. The 30 days are the law's whatever the diagram says."""
    periods = {
        "review": "5日",
        "mediation": "10日",
        "success_feedback": "7日",
        "failure_feedback": "2个工作日",
    }
    edited = _text(render("referral_letter", {**SAMPLES["referral_letter"], "periods": periods}))
    assert LETTER_TEXT.format(**periods) in edited
    assert "15日" not in edited and "3日" not in edited
    older = {key: value for key, value in SAMPLES["referral_letter"].items() if key != "periods"}
    shipped = {
        "review": "3日",
        "mediation": "15日",
        "success_feedback": "5个工作日",
        "failure_feedback": "3个工作日",
    }
    assert LETTER_TEXT.format(**shipped) in _text(render("referral_letter", older))


def test_under_a_ten_day_timer_the_letter_and_the_receipt_name_ten_days() -> None:
    """A policy officer set the mediation timer to 10 days: the letter issued at referral and the receipt
    issued at acceptance both print 10 days, counted by the handlers from the diagram's timer."""
    ctx = FakeContext(data={"matter": "院墙纠纷"}, timers=ten_day_timers(), mediation_org_id=None)
    run("issue_referral", ctx, mediation_org=MEDIATION_COMMITTEE.code)
    run("accept_case", ctx, mediation_org=MEDIATION_COMMITTEE.code)
    letter, receipt = (_text(render(issued.kind, dict(issued.content))) for issued in ctx.documents[:2])
    assert "调解一般应在受理之日起10日内完成，确需延长的最长不超过30日" in letter
    assert "一般在受理之日起10日内（至2026年11月12日）完成，确有必要延长的，最长不超过30日" in receipt
    assert "15日" not in letter + receipt


def test_the_acceptance_receipt_names_the_period_it_was_issued_with() -> None:
    """The days and the deadline the diagram's timer counted when the case was accepted (10 after a policy
    officer's change); a receipt issued before the receipt held them still reads as it was issued."""
    ten = _text(
        render(
            "acceptance_receipt", {"mediation_days": 10, "mediation_deadline": "2026-11-16T23:59:59+08:00"}
        )
    )
    assert "一般在受理之日起10日内（至2026年11月16日）完成，确有必要延长的，最长不超过30日" in ten
    assert "15日" not in ten
    older = _text(render("acceptance_receipt", {"accepted_on": "2026-11-05"}))
    assert "一般在受理之日起15日内完成，确有必要延长的，最长不超过30日" in older


def test_codes_are_shown_with_their_labels() -> None:
    text = _text(render("follow_up_record"))
    assert "上门回访" in text and "部分履行" in text
    assert "in_person" not in text and "partly" not in text
    assert "2026年12月20日" in text


def test_feedback_receipt_success_and_failure() -> None:
    failure = _text(render("feedback_receipt"))
    assert "调解不成功" in failure and "按信访程序办理" in failure and "双方对补偿金额分歧较大" in failure
    success = _text(render("feedback_receipt", {"outcome": "success", "fed_back_on": "2026-12-01"}))
    assert "调解成功，达成调解协议" in success and "人民调解协议书复印件" in success


def test_missing_content_prints_blanks_to_fill_in() -> None:
    page = render("agreement", {})
    assert 'class="blank"' in page
    assert "年　　月　　日" in page


def test_unknown_kind_lists_its_content() -> None:
    content = {"petitioner_name": "张三", "visit_method": "phone", "odd_key": f"值{EVIL}"}
    page = render("mystery", content)
    text = _text(page)
    for key in ("petitioner_name", "visit_method", "odd_key", "case_no"):
        assert key in text
    assert "信访人姓名" in text and "电话回访" in text and "案件编号" in text
    assert "&lt;script&gt;" in page


def test_names_come_from_the_snapshot_taken_at_issue() -> None:
    letter = _text(render("referral_letter", {**SAMPLES["referral_letter"], "consent_documents": ["7"]}))
    assert "八廓街道信访办" in letter and "调解同意书.pdf" in letter
    moved = {**SNAPSHOT, "organisations": {**SNAPSHOT["organisations"], "mediation_org": "拉萨市指导中心"}}
    returned = _text(render_document(view(document("return_letter", snapshot=moved))))
    # the letter is headed and sealed by who issued it, whoever holds the case later
    assert "八廓街道人民调解委员会“访调对接”工作室" in returned and "拉萨市指导中心" not in returned


def test_the_referral_letter_carries_the_leaders_name_and_date() -> None:
    content = {**SAMPLES["referral_letter"], "approved_by": "李建国", "approved_on": "2026-11-03"}
    text = _text(render("referral_letter", content))
    assert "分管领导审签：李建国" in text and "审签日期：2026年11月3日" in text
    draft = _text(render("referral_letter", draft=True))
    assert "草稿" in draft and "审签后出具" in draft


def test_a_receipt_shows_once_signed() -> None:
    blank = _text(render("feedback_receipt"))
    assert "王芳" not in blank
    act = ActView(
        "received",
        {"received_by": "王芳", "received_on": "2026-12-02", "next_steps": "按信访程序办理"},
        CREATED,
        "王芳",
    )
    signed = _text(render("feedback_receipt", acts=[act]))
    assert "签收人王芳" in signed and "2026年12月2日" in signed and "按信访程序办理" in signed
    success = _text(render("success_feedback", acts=[replace(act, content={"received_by": "王芳"})]))
    assert "签收人王芳" in success and "2026年11月28日" in success  # the act's day when none was typed


def test_supersession_and_integrity_are_printed() -> None:
    old = _text(render("agreement", superseded_by="(2026)城八人调字第8号"))
    assert "本文书已被(2026)城八人调字第8号更正取代" in old
    new_document = document("agreement")
    new_document.correction_reason = "乙方姓名有误"
    new = _text(render_document(view(new_document, supersedes="(2026)城八人调字第7号")))
    assert "更正并取代(2026)城八人调字第7号" in new and "乙方姓名有误" in new
    assert "文书摘要：abababababababab" in new
    assert "警告" in _text(render("agreement", intact=False))


def test_new_kinds_print_what_they_record() -> None:
    expected = {
        "intake_register": ("信访移送", "公民之间有关财产权益的纠纷", "☑"),
        "rights_notice": ("选择或者接受人民调解员", "要求调解公开进行或者不公开进行", "张三、李四："),
        "session_record": ("（第2次）", "调解室", "参加人员（签名或按指印）：张三"),
        "extension_notice": ("第三十四条", "2027年2月3日", "批准人：李建国"),
        "consultation_minutes": ("同意信访部门意见", "由原人民调解组织受理", "八廓街道司法所"),
        "risk_report": ("八廓派出所", "群体性事件", "派出所值班民警已接收"),
        "success_feedback": ("(2026)城八人调字第7号", "调解同意书.pdf"),
        "conclusion_notice": ("本信访事项办结", "2026年12月2日"),
    }
    for kind, phrases in expected.items():
        text = _text(render(kind))
        for phrase in phrases:
            assert phrase in text, (kind, phrase)


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
