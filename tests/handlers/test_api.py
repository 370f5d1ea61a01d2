"""The handlers' contract: the registry, and two implementations of the context that keep to it."""

from __future__ import annotations

import inspect
import re
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import pytest

from handlers import api
from orchestration.engine.handler_context import CaseContext
from orchestration.settings import PROJECT_ROOT
from tests.handlers.fakes import NOW, FakeContext

PROPERTIES = sorted(name for name, value in vars(api.HandlerContext).items() if isinstance(value, property))
METHODS = sorted(
    name
    for name, value in vars(api.HandlerContext).items()
    if inspect.isfunction(value) and not name.startswith("_")
)


def case_context() -> CaseContext:
    case = SimpleNamespace(
        id=7,
        case_no="FT2026-000007",
        title="院墙纠纷",
        petition_office_id=1,
        mediation_org_id=2,
        justice_org_id=3,
        outcome=None,
    )
    return CaseContext(None, case, NOW, api.WorkingCalendar(), {}, "clerk", "task")  # type: ignore[arg-type]


def parameters(fn: Any) -> list[tuple[str, Any, Any]]:
    return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]


@pytest.mark.parametrize("implementation", [FakeContext, CaseContext])
def test_every_method_of_the_protocol_is_implemented_with_its_parameters(implementation: type) -> None:
    assert "notify" in METHODS and "earlier_cases" in METHODS
    for name in METHODS:
        expected = parameters(getattr(api.HandlerContext, name))
        assert parameters(getattr(implementation, name)) == expected, name


@pytest.mark.parametrize("make", [FakeContext, case_context], ids=["fake", "engine"])
def test_every_fact_of_the_protocol_can_be_read(make: Any) -> None:
    assert "case_no" in PROPERTIES and "now" in PROPERTIES
    ctx = make()
    for name in PROPERTIES:
        getattr(ctx, name)
    assert isinstance(ctx.now, datetime) and ctx.case_no.startswith("FT2026-")


def test_the_engine_context_reads_facts_from_the_case_row() -> None:
    ctx = case_context()
    ctx.record_outcome("mediated")
    ctx.assign_organisations(mediation_org=9)
    facts = (ctx.outcome, ctx.petition_office_id, ctx.mediation_org_id, ctx.justice_org_id)
    assert facts == ("mediated", 1, 9, 3)


def test_the_registry_holds_exactly_the_operations_the_diagram_calls() -> None:
    called = set()
    for path in (PROJECT_ROOT / "processes").glob("*.bpmn"):
        called |= set(re.findall(r'serviceTaskOperator id="([^"]+)"', path.read_text(encoding="utf-8")))
    assert len(called) >= 10
    assert set(api.OPERATIONS) == called


def test_an_operation_is_registered_under_the_prefix_and_called_with_its_parameters(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(api, "OPERATIONS", {})

    @api.operation("echo")
    def echo(ctx: api.HandlerContext, text: str) -> dict[str, str]:
        return {"case": ctx.case_no, "text": text}

    assert list(api.OPERATIONS.items()) == [("fangtiao/echo", echo)]
    result = api.call("fangtiao/echo", FakeContext(), {"text": "你好"})
    assert result == {"case": "FT2026-000001", "text": "你好"}


def test_an_operation_cannot_be_registered_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api, "OPERATIONS", {})
    api.operation("twice")(lambda ctx: {})
    with pytest.raises(RuntimeError, match="fangtiao/twice registered twice"):
        api.operation("twice")(lambda ctx: {})


def test_an_unknown_operation_is_refused_in_chinese() -> None:
    with pytest.raises(api.HandlerError, match="未知的服务操作：fangtiao/no_such_operation"):
        api.call("fangtiao/no_such_operation", FakeContext(), {})
