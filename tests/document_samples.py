"""Documents as issued, for the tests of their rendering and printing: a sample content of every kind,
with every key its template prints and some text that must be escaped, and the snapshot of issuer and
names taken at issue."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from handlers.documents import KINDS
from orchestration.domain.forms import FormRegistry
from orchestration.services.documents import Document, DocumentView
from webapp.documents import render_document

FORMS = FormRegistry.load(Path(__file__).resolve().parents[1] / "forms")
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

PARTY_LIST: list[dict[str, Any]] = [
    {
        "role": "petitioner",
        "kind": "citizen",
        "name": "张三",
        "ethnicity": "藏族",
        "occupation": "个体工商户",
        "id_number": "11010519491231002X",
        "phone": "13800138000",
        "address": "拉萨市城关区北京中路12号",
    },
    {
        "role": "respondent",
        "kind": "citizen",
        "name": "李四",
        "sex": "男",
        "ethnicity": "汉族",
        "age": 45,
        "id_number": "540102199001011234",
        "address": "拉萨市城关区八廓街3号",
    },
    {
        "role": "respondent",
        "kind": "organisation",
        "name": "拉萨某物业服务有限公司",
        "id_number": "91540100MA6T000000",
        "representative": "王五（总经理）",
        "address": "拉萨市城关区江苏路8号",
    },
]

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
        "periods": {
            "review": "3日",
            "mediation": "15日",
            "success_feedback": "5个工作日",
            "failure_feedback": "3个工作日",
        },
    },
    "acceptance_receipt": {
        "mediator": f"次仁{EVIL}",
        "accepted_at": "2026-11-05T10:30:00+08:00",
        "accepted_on": "2026-11-05",
        "mediation_days": 15,
        "mediation_deadline": "2026-11-20T23:59:59+08:00",
    },
    "return_letter": {"reason": f"已由人民法院立案受理{EVIL}", "from": "次仁"},
    "agreement": {
        "parties": PARTY_LIST,
        "mediator": "次仁",
        "facts": f"李四翻修院墙越界约0.5米。{EVIL}",
        "disputed_matters": "院墙越界部分是否拆除及补偿金额。",
        "responsibilities": "李四负主要责任，张三负次要责任。",
        "terms": "一、李四拆除越界部分院墙。\n二、李四补偿张三人民币伍佰元整。",
        "performance_manner": "拆除后恢复原状；补偿款以银行转账支付。",
        "performance_deadline": "2026-12-15",
        "effective_on": "2026-11-28",
        "judicial_confirmation_deadline": "2026-12-28T00:00:00+08:00",
        "judicial_confirmation_advised": True,
    },
    "oral_agreement_record": {
        "parties": PARTY_LIST[:2],
        "mediator": "次仁",
        "facts": "双方因装修噪音发生争执。",
        "terms": f"李四保证晚上十点后不再施工。{EVIL}",
        "performance_manner": "即时履行",
        "effective_on": "2026-11-20",
        "judicial_confirmation_deadline": "2026-12-21T00:00:00+08:00",
        "judicial_confirmation_advised": False,
    },
    "termination_notice": {
        "parties": PARTY_LIST[:2],
        "reason": f"调解期限届满，未达成调解协议{EVIL}",
        "other_routes": ["仲裁", "行政", "司法", "信访"],
        "feedback_period": "3个工作日",
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
    "intake_register": {
        "dispute_type": "citizen_property",
        "source": "信访移送",
        "parties": PARTY_LIST[:2],
        "facts": f"双方因院墙归属发生争执。{EVIL}",
        "accepted_on": "2026-11-05",
        "mediator": "次仁",
        "parties_confirmed": True,
    },
    "rights_notice": {"parties": ["张三", "李四"], "given_on": "2026-11-05", "method": f"当面送达{EVIL}"},
    "session_record": {
        "session_no": 2,
        "date": "2026-11-10",
        "place": "八廓街道人民调解委员会调解室",
        "attendees": ["张三", "李四"],
        "mediator": "次仁",
        "record": f"双方陈述意见，调解员释法说理。{EVIL}",
        "signatures_confirmed": True,
    },
    "extension_notice": {
        "petitioner_name": "张三",
        "reason": f"案情复杂，需进一步核实。{EVIL}",
        "old_deadline": "2027-01-04",
        "new_deadline": "2027-02-03",
        "decided_by": "李建国",
        "decided_on": "2026-12-28",
    },
    "consultation_minutes": {
        "petition_opinion": "属于人民调解范围，应予受理。",
        "justice_opinion": f"同意信访部门意见。{EVIL}",
        "agreed_by": ["八廓街道信访办 李建国", "八廓街道司法所 张伟"],
        "outcome": "mediation_accepts",
        "escalated_to": None,
        "held_on": "2026-11-08",
        "participants": "八廓街道信访办 李建国；八廓街道司法所 张伟",
    },
    "risk_report": {
        "risk_type": "mass_incident",
        "description": f"业主可能聚集维权。{EVIL}",
        "recipients": ["八廓派出所", "八廓街道党工委、办事处", "八廓街道信访办"],
        "reported_at": "2026-11-09T15:00:00+08:00",
        "receipt": "派出所值班民警已接收",
    },
    "success_feedback": {
        "fed_back_on": "2026-11-30",
        "agreement_number": "(2026)城八人调字第7号",
        "attachments": ["7"],
    },
    "conclusion_notice": {
        "petitioner_name": "张三",
        "concluded_on": "2026-12-02",
        "outcome": f"经人民调解达成调解协议{EVIL}",
        "agreement_number": "(2026)城八人调字第7号",
    },
}


ISSUER = {
    "code": "540102001-tw",
    "name": "八廓街道人民调解委员会“访调对接”工作室",
    "kind": "mediation_committee",
    "seal_name": "八廓街道人民调解委员会",
    "court_name": "拉萨市城关区人民法院",
}
OFFICE = {
    "code": "540102001-xf",
    "name": "八廓街道信访办",
    "kind": "petition_office",
    "seal_name": "八廓街道信访办",
}
JUSTICE = {
    "code": "540102001-sf",
    "name": "八廓街道司法所",
    "kind": "justice_office",
    "seal_name": "八廓街道司法所",
}
ISSUERS = {"petition_office": OFFICE, "mediation_org": ISSUER, "justice_org": JUSTICE}
SNAPSHOT: dict[str, Any] = {
    "issuer": ISSUER,
    "organisations": {
        "petition_office": "八廓街道信访办",
        "mediation_org": ISSUER["name"],
        "justice_org": "八廓街道司法所",
    },
    "case": {"case_no": "XF-2026-000123", "title": "邻里宅基地院墙归属纠纷"},
    "attachments": {"7": "调解同意书.pdf"},
}


def document(
    kind: str,
    content: dict[str, Any] | None = None,
    number: str = "(2026)人调字第7号",
    snapshot: dict[str, Any] | None = None,
) -> Document:
    title = KINDS[kind].title if kind in KINDS else "其他文书"
    body = {
        "case_no": "XF-2026-000123",
        "matter": "邻里宅基地院墙归属纠纷",
        **(SAMPLES.get(kind, {}) if content is None else content),
    }
    return Document(
        id=1,
        case_id=1,
        kind=kind,
        title=title,
        number=number,
        created_at=CREATED,
        content=body,
        snapshot=snapshot
        or {**SNAPSHOT, "issuer": ISSUERS[KINDS[kind].issuer if kind in KINDS else "mediation_org"]},
        digest="ab" * 32,
    )


def view(document: Document, **changes: Any) -> DocumentView:
    """The document as the document service hands it over."""
    view = DocumentView(
        document=document, acts=[], supersedes=None, superseded_by=None, intact=True, forms=FORMS
    )
    return replace(view, **changes)


def render(kind: str, content: dict[str, Any] | None = None, **changes: Any) -> str:
    return render_document(view(document(kind, content), **changes))
