"""The case page's diagram (bpmn-js NavigatedViewer): it opens zoomed on the current step at a phone's and a
desk's width, marks the steps, fits and zooms, and a click on a step shows that step's history."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from orchestration.store.models import Case
from tests.browser.conftest import LiveServer
from tests.browser.ui import Ui
from tests.helpers import advance_to, start


def _case_no(live_server: LiveServer, case_id: int) -> str:
    with live_server.runtime.sessions() as session:
        case = session.get(Case, case_id)
        assert case is not None
        return case.case_no


def _box(page: Page, selector: str) -> dict[str, float]:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    return box


@pytest.mark.parametrize("width", [390, 1280])
def test_the_viewer_zooms_to_the_current_step(ui: Ui, live_server: LiveServer, width: int) -> None:
    case_id = start(live_server.runtime, matter=f"院墙纠纷（流程图 {width}px）")
    advance_to(live_server.runtime, case_id, "mediate")
    page = ui.page
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.set_viewport_size({"width": width, "height": 844 if width < 500 else 900})
    ui.login("clerk")
    page.goto(f"/cases/{_case_no(live_server, case_id)}#diagram")
    viewer = page.locator("#diagram-viewer")
    expect(viewer).to_have_attribute("data-state", "ready")
    expect(viewer).to_have_attribute("data-warnings", "0")
    current = '#diagram-viewer .djs-element.step-current[data-element-id="mediate"]'
    expect(page.locator(current)).to_have_count(1)
    done = '#diagram-viewer .djs-element.step-done[data-element-id="accept_case"]'
    expect(page.locator(done)).to_have_count(1)
    canvas, step = _box(page, "#diagram-viewer-canvas"), _box(page, current)
    ui.shot(f"current-step-{width}")
    # the current step is inside the viewer, near its middle, drawn at full size (a task is 100 px wide)
    assert canvas["x"] <= step["x"] and step["x"] + step["width"] <= canvas["x"] + canvas["width"]
    assert canvas["y"] <= step["y"] and step["y"] + step["height"] <= canvas["y"] + canvas["height"]
    assert abs(step["x"] + step["width"] / 2 - (canvas["x"] + canvas["width"] / 2)) < 30
    assert step["width"] >= 95

    page.click("#diagram-viewer-fit")  # the whole procedure: the step becomes small
    page.wait_for_function(
        "document.querySelector('#diagram-viewer').viewer.get('canvas').zoom() < 0.6", timeout=5000
    )
    assert _box(page, current)["width"] < 60
    ui.shot(f"fit-{width}")
    page.click("#diagram-viewer-current")
    expect(page.locator(current)).to_be_visible()
    page.wait_for_function(
        "document.querySelector('#diagram-viewer').viewer.get('canvas').zoom() >= 0.95", timeout=5000
    )
    assert problems == []


def test_a_click_on_a_step_shows_its_history_masked(ui: Ui, live_server: LiveServer) -> None:
    case_id = start(live_server.runtime, matter="院墙纠纷（环节记录）")
    advance_to(live_server.runtime, case_id, "mediate")
    page = ui.page
    ui.login("mediator")
    page.goto(f"/cases/{_case_no(live_server, case_id)}#diagram")
    expect(page.locator("#diagram-viewer")).to_have_attribute("data-state", "ready")
    page.click("#diagram-viewer-fit")
    page.locator('#diagram-viewer .djs-element[data-element-id="screen_case"]').click()
    history = page.locator("#diagram-viewer-history")
    expect(history).to_be_visible()
    expect(history.locator("h3")).to_have_text("甄别适用范围：办理记录")
    expect(history).to_contain_text("王芳")
    expect(history).to_contain_text("办理“甄别适用范围”")
    ui.shot("step-history")
    page.locator('#diagram-viewer .djs-element[data-element-id="follow_up_visit"]').click()
    expect(history).to_contain_text("该环节尚无办理记录")
    assert "540102199001011234" not in page.content()


def test_the_same_viewer_shows_a_version_to_the_policy_officer(ui: Ui) -> None:
    page = ui.page
    ui.login("policy")
    page.goto("/policy/processes/fangtiao_referral")
    page.click("#view-1")
    viewer = page.locator("#diagram-viewer")
    expect(viewer).to_have_attribute("data-state", "ready")
    expect(viewer).to_have_attribute("data-warnings", "0")
    expect(page.locator('#diagram-viewer .djs-element[data-element-id="lane_justice"]')).to_have_count(1)
    ui.shot("version-diagram")
