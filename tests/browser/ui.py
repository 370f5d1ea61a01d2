"""What a person does in the browser: log in and out, register, pick a task from 待办, submit a form.

Every step ends with a screenshot (`Shots`, below). Elements are found by the templates' stable ids
(f-<field>, err-<field>, submit-task, nav-…) and the 待办 rows' data-case-no / data-task-name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page, expect

from orchestration.services.demo import DEMO_PASSWORD, USERS

DISPLAY_NAMES = {username: display for username, display, _role, _org in USERS}
CASE_NO = re.compile(r"FT\d{4}-\d{6}")

# task name -> (the step's name in the diagram, shown in 待办 and confirmations; the form's heading)
TASKS: dict[str, tuple[str, str]] = {
    "screen_case": ("甄别适用范围", "甄别适用范围"),
    "guide_divert": ("引导分流", "引导分流"),
    "respondent_consent": ("征求对方当事人意见", "征求对方当事人意见"),
    "draft_referral": ("填写移送函", "填写“访调对接”移送函"),
    "approve_referral": ("分管领导审签", "分管领导审签"),
    "review_referral": ("受理审查", "受理审查"),
    "decide_return": ("处理退回", "处理退回"),
    "consultation_petition_opinion": ("会商：信访部门意见", "会商：信访部门意见"),
    "joint_consultation": ("会商：司法行政部门意见", "会商：司法行政部门意见"),
    "mediate": ("依法调解", "依法调解"),
    "feedback_success": ("反馈调解结果", "反馈调解结果"),
    "receive_success": ("签收调解结果", "签收调解结果"),
    "conclude_petition": ("信访事项办结", "信访事项办结"),
    "follow_up_visit": ("跟踪回访", "跟踪回访"),
}

# The registration as a clerk types it (tests.helpers.REGISTRATION, with an address).
REGISTRATION: dict[str, str] = {
    "petitioner_name": "张三",
    "petitioner_id_number": "540102199001011234",
    "petitioner_phone": "13800138000",
    "petitioner_address": "拉萨市城关区八廓街道冲赛康社区",
    "respondent_name": "李四",
    "facts": "双方因院墙归属发生争执，信访人称院墙系其父辈所建。",
}


def consent_pdf(path: Path) -> Path:
    """A small, valid one-page PDF (the petitioner's signed consent, as a scan would be uploaded)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        None,  # the content stream, below
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    stream = b"BT /F1 18 Tf 72 760 Td (Consent to people's mediation - Zhang San) Tj ET"
    objects[3] = b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream)
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    path.write_bytes(bytes(out))
    return path


@dataclass
class Shots:
    """Numbered screenshots of one test: artifacts/screenshots/<test>/<NN>-<step>.png."""

    folder: Path
    taken: list[Path] = field(default_factory=list)

    def __call__(self, page: Page, step: str) -> Path:
        name = re.sub(r"[^\w.-]+", "-", step).strip("-")
        path = self.folder / f"{len(self.taken) + 1:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        self.taken.append(path)
        return path


@dataclass
class Ui:
    page: Page
    shots: Shots

    def shot(self, step: str) -> None:
        self.shots(self.page, step)

    # ---- signing in and out ------------------------------------------------------------------------

    def login(self, username: str) -> None:
        if self.page.locator("#login-form").count() == 0:
            self.page.goto("/login")
        self.page.fill("#username", username)
        self.page.fill("#password", DEMO_PASSWORD)
        self.shot(f"login-{username}")
        self.page.click("#login-submit")
        expect(self.page.locator("#current-user")).to_contain_text(DISPLAY_NAMES[username])
        expect(self.page.locator(".flash-success")).to_contain_text(f"欢迎，{DISPLAY_NAMES[username]}")
        self.shot(f"signed-in-{username}")

    def logout(self) -> None:
        self.page.click("#nav-logout")
        expect(self.page.locator("#login-form")).to_be_visible()
        expect(self.page.locator(".flash")).to_contain_text("已退出登录")
        expect(self.page.locator("#current-user")).to_have_count(0)
        self.shot("signed-out")

    # ---- 登记 --------------------------------------------------------------------------------------

    def open_register(self) -> None:
        self.page.click("#nav-register")
        expect(self.page.locator("#register-form")).to_be_visible()
        expect(self.page.locator("h1")).to_have_text("信访事项登记")

    def fill_registration(self, matter: str, **overrides: str) -> None:
        values = {**REGISTRATION, "matter": matter, **overrides}
        for name, value in values.items():
            self.page.fill(f"#f-{name}", value)
        self.page.check("#f-respondent_type-citizen")
        self.page.check("#f-petition_channel-visit")
        # Prefilled from the clerk's office and the (frozen) clock:
        expect(self.page.locator("#f-locality")).to_have_value("540102001")
        expect(self.page.locator("#f-received_on")).to_have_value("2026-11-02")

    def submit_registration(self) -> str:
        self.page.click("#submit-register")
        flash = self.page.locator(".flash-success")
        expect(flash).to_contain_text("已登记，案件编号")
        match = CASE_NO.search(flash.inner_text())
        assert match is not None, flash.inner_text()
        self.shot("registered")
        return match.group(0)

    # ---- 待办 --------------------------------------------------------------------------------------

    def inbox_row(self, case_no: str, task_name: str) -> Locator:
        """Goes to 待办, narrows it to the case by the filter form, and returns the task's row."""
        self.page.click("#nav-tasks")
        expect(self.page.locator("h1")).to_have_text("待办")
        self.page.fill("#filter-case-no", case_no)
        self.page.click("#filter-submit")
        row = self.page.locator(f'#task-table tr[data-case-no="{case_no}"][data-task-name="{task_name}"]')
        expect(row).to_have_count(1)
        self.shot(f"inbox-{task_name}")
        return row

    def open_task(self, case_no: str, task_name: str, row: Locator | None = None) -> None:
        """Opens the task by its 办理 button in 待办 (`row`: the row already found by `inbox_row`)."""
        if row is None:
            row = self.inbox_row(case_no, task_name)
        expect(row.locator("td[data-label='环节']")).to_have_text(TASKS[task_name][0])
        row.locator("a[id^='handle-']").click()
        expect(self.page.locator("#task-panel h1")).to_have_text(TASKS[task_name][1])
        expect(self.page.locator("#crumb-case")).to_have_text(case_no)

    def fill(
        self,
        text: dict[str, str] | None = None,
        choose: dict[str, str] | None = None,
        select: dict[str, str] | None = None,
        tick: tuple[str, ...] = (),
    ) -> None:
        """Text, textarea and date fields, radio buttons and drop-down lists by name and value; checkboxes
        by name."""
        for name, value in (choose or {}).items():
            self.page.check(f"#f-{name}-{value}")
        for name, value in (select or {}).items():
            self.page.select_option(f"#f-{name}", value)
        for name in tick:
            self.page.check(f"#f-{name}")
        for name, value in (text or {}).items():
            self.page.fill(f"#f-{name}", value)

    def submit_task(self, case_no: str, task_name: str, next_tasks: tuple[str, ...]) -> None:
        """Submits the open task form; the confirmation names the step done and the steps that follow."""
        self.shot(f"{task_name}-filled")
        self.page.click("#submit-task")
        flash = self.page.locator(".flash-success")
        expect(flash).to_contain_text(f"已办理：{case_no}“{TASKS[task_name][0]}”")
        if next_tasks:
            expect(flash).to_contain_text("下一环节：" + "、".join(TASKS[n][0] for n in next_tasks))
        else:
            expect(flash).to_contain_text("流程已无待办环节")
        self.shot(f"{task_name}-done")

    def do_task(self, case_no: str, task_name: str, next_tasks: tuple[str, ...], **fields: Any) -> None:
        """Picks the task from 待办, fills its form (see `fill`), submits it and checks the confirmation."""
        self.open_task(case_no, task_name)
        self.fill(**fields)
        self.submit_task(case_no, task_name, next_tasks)
