"""An anonymised case still opens: its parties as 当事人甲 and 乙, and the timeline says why."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from orchestration.engine.clock import FrozenClock
from orchestration.engine.runtime import Runtime
from orchestration.services import Services
from orchestration.services.retention import RetentionMode
from orchestration.store.models import Case
from tests.orchestration.services.test_retention import close, closed_case
from tests.webapp.helpers import login, text
from webapp.context import SERVICES_KEY


def test_the_case_page_of_an_anonymised_case(
    app: Flask, client: FlaskClient, runtime: Runtime, clock: FrozenClock
) -> None:
    case_id = closed_case(runtime)
    close(runtime, case_id)
    clock.advance(timedelta(days=366 * 10))
    services: Services = app.extensions[SERVICES_KEY]
    admin = services.users.viewer("admin")
    assert admin is not None
    assert [o.done for o in services.retention.apply(admin, 10, RetentionMode.ANONYMISE)] == [True]
    with runtime.sessions() as session:
        number = session.scalar(select(Case.case_no).where(Case.id == case_id))
    login(client, "clerk")
    page = client.get(f"/cases/{number}")
    assert page.status_code == 200
    shown = text(page)
    assert "当事人甲" in shown and "当事人乙" in shown and "张三" not in shown
    assert "保存期限（10年）届满，当事人个人信息已匿名化" in shown
