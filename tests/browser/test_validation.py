"""A form sent with a required field missing comes back with the Chinese message at that field and the
rest of the input kept; corrected, it goes through."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.ui import REGISTRATION, Ui


def test_missing_fields_are_shown_at_the_field_and_corrected(ui: Ui) -> None:
    page = ui.page
    ui.login("clerk")

    # 登记 without the 信访事项.
    ui.open_register()
    ui.fill_registration("")
    ui.page.click("#submit-register")
    expect(page.locator("#err-matter")).to_have_text("请填写信访事项（诉求）")
    expect(page.locator("#field-matter")).to_have_class("field field-text has-error")
    expect(page.locator("#form-message")).to_be_visible()
    for name in ("petitioner_name", "petitioner_id_number", "petitioner_phone", "respondent_name", "facts"):
        expect(page.locator(f"#f-{name}")).to_have_value(REGISTRATION[name])
    expect(page.locator("#f-respondent_type-citizen")).to_be_checked()
    expect(page.locator("#f-petition_channel-visit")).to_be_checked()
    expect(page.locator(".has-error")).to_have_count(1)
    ui.shot("register-error")
    page.fill("#f-matter", "相邻通行纠纷（浏览器测试）")
    case_no = ui.submit_registration()
    expect(page.locator(".flash-success")).to_contain_text(f"已登记，案件编号 {case_no}")

    # 甄别 without the 纠纷类型.
    ui.open_task(case_no, "screen_case")
    ui.fill(text={"screening_notes": "信访人与邻居因通行道路发生争执。"})
    page.click("#submit-task")
    expect(page.locator("#err-dispute_category")).to_have_text("请选择纠纷类型")
    expect(page.locator("#f-screening_notes")).to_have_value("信访人与邻居因通行道路发生争执。")
    expect(page.locator("#form-message")).to_be_visible()
    ui.shot("screen_case-error")
    ui.fill(choose={"dispute_category": "citizen_other_rights"})
    ui.submit_task(case_no, "screen_case", ("guide_divert",))
