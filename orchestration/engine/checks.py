"""Checks a procedure's files before deployment; each finding names the file and the element (id and name).

What is checked (README, "部署前检查"): the files' names, sizes and XML safety; XML syntax, the BPMN schema
and SpiffWorkflow's own parse; every user task has a form that exists in the files and sits in a lane that
maps to a role; every service task calls an operation the handlers offer, with the parameters it takes;
no scripts; every expression keeps to the expression rule; every timer evaluates with sample data to a
valid date with a time zone (or a duration); every exclusive gateway has a default flow, or conditions
covering every value its form allows; conditions and DMN inputs name only data the forms or the procedure
define; business rule tasks call a decision the DMN files hold; forms and scenarios are valid.

The sample data is what the procedure itself would hold: a sample value for every form field, and the
result of every service task's operation called with that data through a context that writes nothing.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from handlers import api
from handlers.referral import MAX_MEDIATION_DAYS, MEDIATION_TIMER, mediation_period
from orchestration.domain import expressions, scenario_schema
from orchestration.domain.assignment import LANE_ROLES
from orchestration.domain.calendar import SHANGHAI, EveryDayCalendar, WorkingCalendar
from orchestration.domain.forms import FormDefinition, FormError, FormField, parse_form_text
from orchestration.domain.procedure import (
    BPMN,
    DMN,
    FORMS,
    JSON,
    RISK_FORM,
    START_FORM,
    DeployError,
    Finding,
    UnsafeFile,
    check_files,
    form_texts,
    parse_xml,
    scenario_texts,
)
from orchestration.engine.script_engine import (
    FUNCTIONS,
    Timers,
    UncountedPeriod,
    evaluate,
    timer_due,
    timer_period,
)
from orchestration.engine.specs import parser_with
from orchestration.errors import FangtiaoError

SPIFF = "{http://spiffworkflow.org/bpmn/schema/1.0/core}"
# what the runtime adds to the registration data when it starts a case
START_LABELS = {"case_no": "案件编号", "registered_at": "案件登记时间"}
START_DATA = tuple(START_LABELS)
SAMPLE_TEXT = "样例"
SAMPLE_PERIOD = api.Period(1, "日")


def check(
    files: Mapping[str, str], process_id: str, calendar: WorkingCalendar, now: datetime
) -> list[Finding]:
    """Every finding about the files, errors first; no errors means they may be deployed."""
    try:
        check_files(files)
    except UnsafeFile as exc:
        return [Finding("error", "", None, None, exc.message)]
    forms, findings = _forms(files)
    findings += _scenarios(files)
    trees, unreadable = _trees(files)
    findings += unreadable
    findings += _parse(files, process_id, trees)
    procedure = _Procedure(trees, forms)
    findings += procedure.check(calendar, now)
    return sorted(findings, key=lambda f: f.severity != "error")


# ---- files ------------------------------------------------------------------------------------------


def _forms(files: Mapping[str, str]) -> tuple[dict[str, FormDefinition], list[Finding]]:
    forms, findings = {}, []
    for name, text in form_texts(files).items():
        try:
            forms[name] = parse_form_text(name, text)
        except FormError as exc:
            # the field's name is what the editor finds in the JSON (a row field's within its group)
            field = ".".join(n for n in (exc.group, exc.field) if n) or None
            findings.append(Finding("error", f"{FORMS}{name}{JSON}", field, None, str(exc)))
    for required, use in ((START_FORM, "登记信访事项"), (RISK_FORM, "报告风险")):
        if required not in forms and f"{FORMS}{required}{JSON}" not in files:
            findings.append(
                Finding(
                    "error", f"{FORMS}{required}{JSON}", None, None, f"缺少表单 {required}（{use}时使用）"
                )
            )
    return forms, findings


def _trees(files: Mapping[str, str]) -> tuple[dict[str, etree._Element], list[Finding]]:
    """The BPMN and DMN documents that parse, and a finding for each that does not."""
    trees: dict[str, etree._Element] = {}
    findings = []
    for name, text in files.items():
        if name.endswith((BPMN, DMN)) and "/" not in name:
            try:
                trees[name] = parse_xml(name, text)
            except (UnsafeFile, DeployError) as exc:
                findings.append(Finding("error", name, None, None, exc.message))
    return trees, findings


def _scenarios(files: Mapping[str, str]) -> list[Finding]:
    return [
        Finding("error", name, None, None, p)
        for name, text in scenario_texts(files).items()
        for p in _scenario(text)
    ]


@lru_cache(maxsize=512)
def _scenario(text: str) -> tuple[str, ...]:
    """What is wrong with a scenario file. The schema check costs tens of milliseconds a file and the same
    files are checked at every deployment, so the answer is kept per text."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        return (f"场景文件不是有效的 JSON：第{exc.lineno}行第{exc.colno}列，{exc.msg}",)
    return tuple(scenario_schema.problems(document))


def _parse(files: Mapping[str, str], process_id: str, trees: Mapping[str, etree._Element]) -> list[Finding]:
    """The BPMN schema and SpiffWorkflow's parse, once every XML file is readable."""
    if len(trees) != sum(1 for n in files if n.endswith((BPMN, DMN)) and "/" not in n):
        return []
    try:
        parser = parser_with(files)
        parser.get_spec(process_id)
        parser.get_subprocess_specs(process_id)
    except ValidationException as exc:
        line = f"（第{exc.line_number}行）" if exc.line_number else ""
        message = f"流程文件校验失败{line}：{exc.args[0] if exc.args else exc}"
        return [Finding("error", exc.file_name or "", exc.id or None, exc.name or None, message)]
    except KeyError:
        bpmn = next((n for n in files if n.endswith(BPMN)), "")
        return [Finding("error", bpmn, process_id, None, f"流程文件中没有流程 {process_id}")]
    except (UnsafeFile, DeployError) as exc:
        return [Finding("error", "", None, None, exc.message)]
    return []


# ---- the elements ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Element:
    file: str
    node: etree._Element
    # what to call an element that has no name of its own (a DMN cell: its rule and column)
    called: str | None = None

    @property
    def id(self) -> str | None:
        return self.node.get("id")

    @property
    def name(self) -> str | None:
        # DMN columns carry a label rather than a name
        return self.node.get("name") or self.node.get("label") or self.called

    def finding(self, message: str) -> Finding:
        """An error about this element."""
        return Finding("error", self.file, self.id, self.name, message)


class _Procedure:
    """The BPMN and DMN documents and the forms, with what the checks ask of them."""

    def __init__(self, trees: Mapping[str, etree._Element], forms: Mapping[str, FormDefinition]) -> None:
        self.bpmn = {name: tree for name, tree in trees.items() if name.endswith(BPMN)}
        self.dmn = {name: tree for name, tree in trees.items() if name.endswith(DMN)}
        self.forms = forms

    def elements(self, tag: str) -> Iterator[_Element]:
        for name, tree in self.bpmn.items():
            for node in tree.iter(f"{{*}}{tag}"):
                yield _Element(name, node)

    def dmn_elements(self, tag: str) -> Iterator[_Element]:
        for name, tree in self.dmn.items():
            for node in tree.iter(f"{{*}}{tag}"):
                yield _Element(name, node)

    # -- what the procedure defines

    def fields(self) -> dict[str, list[FormField]]:
        found: dict[str, list[FormField]] = {}
        for form in self.forms.values():
            for form_field in form.fields:
                found.setdefault(form_field.name, []).append(form_field)
        return found

    def service_tasks(self) -> Iterator[tuple[_Element, etree._Element]]:
        for element in self.elements("serviceTask"):
            operator = element.node.find(f".//{SPIFF}serviceTaskOperator")
            if operator is not None:
                yield element, operator

    def known_names(self) -> set[str]:
        """Every name case data can hold: form fields, what the runtime adds at the start, service results,
        DMN outputs and event payloads."""
        names = set(self.fields()) | set(START_DATA)
        names |= {op.get("resultVariable") or "" for _, op in self.service_tasks()}
        names |= {e.node.get("name") or "" for e in self.dmn_elements("output")}
        names |= {(e.node.text or "").strip() for e in self.elements("variableName")}
        return names - {""}

    # -- the checks

    def check(self, calendar: WorkingCalendar, now: datetime) -> list[Finding]:
        known = self.known_names()
        findings = [
            *self.user_tasks(),
            *self.services(),
            *self.scripts(),
            *self.gateways(),
            *self.conditions(known),
            *self.decisions(known),
            *self.unused_forms(),
        ]
        sample = sample_data(self, calendar, now, findings)
        findings += self.timers(sample, calendar)
        findings += self.mediation_limit(sample, calendar, now)
        return findings

    def user_tasks(self) -> Iterator[Finding]:
        lanes: dict[str, str] = {}
        for lane_element in self.elements("lane"):
            for ref in lane_element.node.iter("{*}flowNodeRef"):
                lanes[(ref.text or "").strip()] = lane_element.name or ""
        for task in self.elements("userTask"):
            lane = lanes.get(task.id or "")
            if lane is None:
                yield task.finding("用户任务不在任何泳道中：泳道决定由哪个角色办理")
            elif lane not in LANE_ROLES:
                yield task.finding(f"所在泳道“{lane}”未对应任何角色（可用的泳道：{'、'.join(LANE_ROLES)}）")
            form = _property(task.node, "formName")
            if not form:
                yield task.finding("用户任务未指定表单（formName）")
            elif form not in self.forms:
                yield task.finding(f"表单 {form} 不存在（应有 {FORMS}{form}{JSON}）")

    def services(self) -> Iterator[Finding]:
        for task, operator in self.service_tasks():
            name = operator.get("id") or ""
            handler = api.OPERATIONS.get(name)
            if handler is None:
                yield task.finding(f"服务操作 {name} 不存在（可用：{'、'.join(sorted(api.OPERATIONS))}）")
                continue
            given = {}
            for parameter in operator.iter(f"{SPIFF}parameter"):
                given[parameter.get("id") or ""] = parameter.get("value") or ""
            yield from _parameters(task, name, handler, given)
            for value in given.values():
                yield from _rule(task, value, "参数")

    def scripts(self) -> Iterator[Finding]:
        for task in self.elements("scriptTask"):
            yield task.finding("流程中不允许脚本任务：所需的计算请由服务操作或日历函数完成")
        for file, tree in self.bpmn.items():
            for node in tree.iter(f"{SPIFF}preScript", f"{SPIFF}postScript"):
                owner = next((a for a in node.iterancestors() if a.get("id")), tree)
                yield _Element(file, owner).finding("流程中不允许前置或后置脚本")

    def flows(self) -> dict[str, list[_Element]]:
        """Outgoing sequence flows by source element id."""
        outgoing: dict[str, list[_Element]] = {}
        for flow in self.elements("sequenceFlow"):
            outgoing.setdefault(flow.node.get("sourceRef") or "", []).append(flow)
        return outgoing

    def gateways(self) -> Iterator[Finding]:
        outgoing = self.flows()
        fields = self.fields()
        for gateway in self.elements("exclusiveGateway"):
            flows = outgoing.get(gateway.id or "", [])
            default = gateway.node.get("default")
            if default:
                if default not in {f.id for f in flows}:
                    yield gateway.finding(f"默认流 {default} 不是该网关的出线")
                continue
            if len(flows) < 2:
                continue
            conditions = [_condition(f.node) for f in flows]
            if any(c is None for c in conditions):
                yield gateway.finding("没有默认流，且有出线没有条件：请设置默认流或为每条出线写条件")
                continue
            yield from _coverage(gateway, [c for c in conditions if c is not None], fields)

    def conditions(self, known: set[str]) -> Iterator[Finding]:
        for flow in self.elements("sequenceFlow"):
            condition = _condition(flow.node)
            if condition is None:
                continue
            yield from _rule(flow, condition, "条件")
            unknown = sorted(expressions.data_names(condition) - known)
            if unknown:
                yield flow.finding(
                    f"条件引用了表单和流程中都没有定义的字段：{'、'.join(unknown)}（条件“{condition}”）"
                )

    def decisions(self, known: set[str]) -> Iterator[Finding]:
        decisions = {e.id for e in self.dmn_elements("decision")}
        for task in self.elements("businessRuleTask"):
            called = task.node.find(f".//{SPIFF}calledDecisionId")
            decision = (called.text or "").strip() if called is not None else ""
            if not decision:
                yield task.finding("业务规则任务未指定决策表（calledDecisionId）")
            elif decision not in decisions:
                yield task.finding(f"决策表 {decision} 不存在于 DMN 文件中")
        for table in self.dmn_elements("decisionTable"):
            decision = table.node.getparent()
            label = decision.get("name") if decision is not None else None
            inputs, columns = [], []
            for column in table.node.iter("{*}input"):
                text = column.findtext("{*}inputExpression/{*}text") or ""
                inputs.append(text.strip())
                columns.append(column.get("label") or text.strip())
                element = _Element(table.file, column)
                yield from _rule(element, text.strip(), "输入")
                unknown = sorted(expressions.data_names(text) - known)
                if unknown:
                    yield element.finding(
                        f"决策表“{label}”的输入引用了表单和流程中都没有定义的字段：{'、'.join(unknown)}"
                    )
            outputs = [o.get("label") or o.get("name") or "" for o in table.node.iter("{*}output")]
            for number, rule in enumerate(table.node.iter("{*}rule"), 1):
                for index, entry in enumerate(rule.iter("{*}inputEntry")):
                    cell = (entry.findtext("{*}text") or "").strip()
                    if index < len(inputs) and cell not in ("", "-"):
                        where = _Element(table.file, entry, f"第{number}条规则·{columns[index]}")
                        yield from _rule(where, _dmn_match(inputs[index], cell), "条件")
                for index, entry in enumerate(rule.iter("{*}outputEntry")):
                    cell = (entry.findtext("{*}text") or "").strip()
                    if cell:
                        column = outputs[index] if index < len(outputs) else ""
                        yield from _rule(
                            _Element(table.file, entry, f"第{number}条规则·{column}"), cell, "输出"
                        )

    def unused_forms(self) -> Iterator[Finding]:
        used = {_property(t.node, "formName") for t in self.elements("userTask")} | {START_FORM, RISK_FORM}
        for name in sorted(set(self.forms) - used):
            yield Finding(
                "warning", f"{FORMS}{name}{JSON}", None, None, f"表单 {name} 没有被任何用户任务使用"
            )

    def date_timers(self) -> dict[str, str]:
        """The expression of every date timer, by its event's id (as script_engine.date_timers)."""
        found = {}
        for definition in self.elements("timerEventDefinition"):
            node = definition.node.find("{*}timeDate")
            event = definition.node.getparent()
            if node is not None and event is not None and event.get("id"):
                found[event.get("id") or ""] = (node.text or "").strip()
        return found

    def timers(self, sample: Mapping[str, Any], calendar: WorkingCalendar) -> Iterator[Finding]:
        for definition in self.elements("timerEventDefinition"):
            event = _Element(definition.file, definition.node.getparent())
            for kind in ("timeDate", "timeDuration", "timeCycle"):
                node = definition.node.find(f"{{*}}{kind}")
                if node is not None:
                    yield from _timer(event, kind, (node.text or "").strip(), sample, calendar)

    def mediation_limit(
        self, sample: Mapping[str, Any], calendar: WorkingCalendar, now: datetime
    ) -> Iterator[Finding]:
        """The mediation period the diagram's timer gives before any extension is counted in days, as the law
        counts it and the 30 days in all are, and may not pass those 30 days (实施意见六(三)): extending it
        would then be refused however short, and the period itself be unlawful. A missing timer or an
        expression that fails is reported where it is, by the other checks."""
        for definition in self.elements("timerEventDefinition"):
            event = _Element(definition.file, definition.node.getparent())
            if event.id != MEDIATION_TIMER:
                continue
            timers = Timers(self.date_timers(), calendar, sample)
            acceptance = {"accepted_at": now.isoformat(), "extension_days": 0}
            try:
                period = timers.period(MEDIATION_TIMER, {"acceptance": acceptance})
                days, _ = mediation_period(timers.due, acceptance)
            except api.HandlerError:
                return
            if period.unit != "日":
                yield event.finding(
                    f"调解期限定时器按{period.unit.removeprefix('个')}计算（{period}），实施意见六(三)的调解期限按日计算"
                    "（一般15日，含延长最长不超过30日），请用 deadline_days"
                )
            elif days > MAX_MEDIATION_DAYS:
                yield event.finding(
                    f"调解期限定时器在未延长时给出{days}日的调解期限，超过实施意见六(三)规定的最长"
                    f"{MAX_MEDIATION_DAYS}日（调解一般在受理之日起15日内完成，确需延长的，最长不超过"
                    f"{MAX_MEDIATION_DAYS}日）"
                )


def _property(node: etree._Element, name: str) -> str | None:
    for prop in node.iter(f"{SPIFF}property"):
        if prop.get("name") == name:
            return prop.get("value")
    return None


def _condition(flow: etree._Element) -> str | None:
    node = flow.find("{*}conditionExpression")
    return (node.text or "").strip() if node is not None else None


def _rule(element: _Element, expression: str, what: str) -> Iterator[Finding]:
    for problem in expressions.problems(expression, FUNCTIONS):
        yield element.finding(f"{what}“{expression}”不符合表达式规则：{problem}")


def _dmn_match(input_expression: str, cell: str) -> str:
    """The expression SpiffWorkflow's DMN engine evaluates for a cell (see DMNEngine.evaluate): `?` stands
    for the input; a value is compared with ==, a cell beginning with an operator is appended."""
    if "?" in cell:
        return cell.replace("?", "dmninputexpr")
    try:
        compile(cell, "<dmn>", "eval")
    except SyntaxError:
        return f"({input_expression}) {cell}"
    return f"({input_expression}) == ({cell})"


def _parameters(
    task: _Element, operation: str, handler: api.Operation, given: Mapping[str, str]
) -> Iterator[Finding]:
    parameters = list(inspect.signature(handler).parameters.values())[1:]  # after the context
    if any(p.kind is p.VAR_KEYWORD for p in parameters):
        return
    names = {p.name for p in parameters}
    for missing in [p.name for p in parameters if p.default is p.empty and p.name not in given]:
        yield task.finding(f"服务操作 {operation} 缺少参数 {missing}")
    for extra in sorted(set(given) - names):
        yield task.finding(f"服务操作 {operation} 没有参数 {extra}（它的参数：{'、'.join(sorted(names))}）")


def _coverage(
    gateway: _Element, conditions: Sequence[str], fields: Mapping[str, list[FormField]]
) -> Iterator[Finding]:
    """Without a default flow, the conditions must cover every value the form lets the user choose."""
    parts = [expressions.equality_values(c) for c in conditions]
    names = {p[0] for p in parts if p is not None}
    if any(p is None for p in parts) or len(names) != 1:
        yield gateway.finding("没有默认流，且无法确认条件覆盖了表单允许的每个取值：请设置默认流")
        return
    name = names.pop()
    covered = {v for p in parts if p is not None for v in p[1]}
    allowed: set[object] = set()
    for form_field in fields.get(name, []):
        values = _allowed_values(form_field)
        if values is None:
            yield gateway.finding(f"没有默认流，而字段 {name} 的取值不固定：请设置默认流")
            return
        allowed |= values
    if not allowed:
        yield gateway.finding(f"没有默认流，而字段 {name} 不在任何表单中：请设置默认流")
        return
    missing = allowed - covered
    if missing:
        listed = "、".join(sorted(json.dumps(v, ensure_ascii=False) for v in missing))
        yield gateway.finding(f"没有默认流，且条件未覆盖字段 {name} 的取值：{listed}")


def _allowed_values(form_field: FormField) -> set[object] | None:
    """The values a field can hold, when the form fixes them; None when it does not."""
    if form_field.schema.get("type") == "boolean":
        const = form_field.schema.get("const")
        return {const} if const is not None else {True, False}
    if form_field.options and not form_field.options_from and form_field.widget != "checkboxes":
        return {value for value, _ in form_field.options}
    return None


# ---- timers and the sample data -------------------------------------------------------------------


class TimerRefused(FangtiaoError):
    """A timer's expression that gives no valid moment (or duration, or cycle) with the sample data;
    `problems` say why, in Chinese."""

    status = 422

    def __init__(self, problems: list[str]) -> None:
        super().__init__("；".join(problems))
        self.problems = problems


def _timer(
    event: _Element, kind: str, expression: str, sample: Mapping[str, Any], calendar: WorkingCalendar
) -> Iterator[Finding]:
    try:
        timer_value(kind, expression, sample, calendar)
    except TimerRefused as exc:
        for problem in exc.problems:
            yield event.finding(problem)


def timer_value(kind: str, expression: str, sample: Mapping[str, Any], calendar: WorkingCalendar) -> str:
    """What a timer's expression of `kind` (timeDate, timeDuration, timeCycle) gives with the sample data:
    ISO 8601 text, a moment with a time zone for a timeDate. Refused (TimerRefused) otherwise."""
    problems = expressions.problems(expression, FUNCTIONS)
    if problems:
        raise TimerRefused([f"定时器表达式“{expression}”不符合表达式规则：{p}" for p in problems])
    try:
        value = evaluate(expression, sample, calendar)
    except NameError as exc:
        raise TimerRefused([f"定时器表达式“{expression}”无法用示例数据计算：没有数据 {exc.name}"]) from exc
    except KeyError as exc:
        raise TimerRefused([f"定时器表达式“{expression}”无法用示例数据计算：示例数据中没有键 {exc}"]) from exc
    except Exception as exc:
        message = f"定时器表达式“{expression}”用示例数据计算出错：{type(exc).__name__}: {exc}"
        raise TimerRefused([message]) from exc
    if not isinstance(value, str):
        raise TimerRefused([f"定时器表达式“{expression}”应得出文本（ISO 8601），实际得出 {value!r}"])
    try:
        if kind == "timeDate":
            moment = datetime.fromisoformat(value)
        elif kind == "timeDuration":
            TimerEventDefinition.parse_iso_duration(value)
        else:
            TimerEventDefinition.parse_iso_recurring_interval(value)
    except Exception as exc:
        meaning = {"timeDate": "日期时间", "timeDuration": "时长", "timeCycle": "循环周期"}[kind]
        message = f"定时器表达式“{expression}”得出 {value!r}，不是有效的 ISO 8601 {meaning}"
        raise TimerRefused([message]) from exc
    if kind == "timeDate" and moment.tzinfo is None:
        raise TimerRefused([f"定时器表达式“{expression}”得出的时间 {value} 没有时区"])
    return value


def sample_for(
    files: Mapping[str, str], calendar: WorkingCalendar, now: datetime
) -> tuple[dict[str, Any], dict[str, str]]:
    """The sample data of the procedure the files hold as far as they parse (see sample_data), and what
    each of its names is, in Chinese: a form field's label or the service task giving it."""
    forms, _ = _forms(files)
    trees, _ = _trees(files)
    procedure = _Procedure(trees, forms)
    labels = dict(START_LABELS)
    for name, fields in procedure.fields().items():
        labels[name] = fields[0].label
    for task, operator in procedure.service_tasks():
        labels.setdefault(operator.get("resultVariable") or "", task.name or task.id or "")
    return sample_data(procedure, calendar, now, []), {k: v for k, v in labels.items() if k and v}


def sample_data(
    procedure: _Procedure, calendar: WorkingCalendar, now: datetime, findings: list[Finding]
) -> dict[str, Any]:
    """A sample value for every form field, what the runtime adds at the start, and the result of every
    service task's operation called with the data so far (a task whose parameters or handler fail on the
    sample gives nothing). Passes repeat until nothing new comes, so an operation using another's result
    runs after it whatever the order of the file. An operation reading a timer the diagram lacks is added
    to `findings`: it would fail every case that reaches it."""
    today = now.astimezone(SHANGHAI).date()
    data: dict[str, Any] = {}
    for fields in procedure.fields().values():
        data[fields[0].name] = _sample_value(fields[0], today.isoformat())
    data.update(case_no="FT0000-000000", registered_at=now.isoformat())
    # The one signal the runtime sends (a risk report) carries the risk form's data as its payload.
    risk_form = procedure.forms.get(RISK_FORM)
    if risk_form is not None:
        payload = {f.name: _sample_value(f, today.isoformat()) for f in risk_form.fields}
        for element in procedure.elements("variableName"):
            data.setdefault((element.node.text or "").strip(), payload)
    pending = list(procedure.service_tasks())
    timers = procedure.date_timers()
    while pending:
        left = []
        for task, operator in pending:
            result = _dry_run(task, operator, data, timers, calendar, now, findings)
            if result is None:
                left.append((task, operator))
            elif operator.get("resultVariable"):
                data.setdefault(operator.get("resultVariable") or "", result)
        if len(left) == len(pending):
            break
        pending = left
    return data


def _sample_value(form_field: FormField, today: str) -> Any:
    schema = form_field.schema
    if form_field.default is not None:
        return form_field.default
    if schema.get("const") is not None:
        return schema["const"]
    if schema.get("type") == "boolean":
        return True
    if schema.get("type") == "array":
        return [form_field.options[0][0]] if form_field.options and form_field.widget != "file" else []
    if form_field.options:
        return form_field.options[0][0]
    if schema.get("type") in ("integer", "number"):
        return schema.get("minimum", 1)
    if form_field.widget == "date" or schema.get("format") == "date":
        return today
    return SAMPLE_TEXT


def _dry_run(
    task: _Element,
    operator: etree._Element,
    data: dict[str, Any],
    timers: Mapping[str, str],
    calendar: WorkingCalendar,
    now: datetime,
    findings: list[Finding],
) -> Any:
    handler = api.OPERATIONS.get(operator.get("id") or "")
    if handler is None:
        return None
    context = _SampleContext(now, calendar, data, task.id or "", timers)
    try:
        params = {
            p.get("id") or "": evaluate(p.get("value") or "", data, calendar)
            for p in operator.iter(f"{SPIFF}parameter")
            if not expressions.problems(p.get("value") or "", FUNCTIONS)
        }
        # as the engine hands it over: through JSON
        return json.loads(json.dumps(handler(context, **params), ensure_ascii=False))
    except Exception:
        return None
    finally:
        for event in context.missing_timers:
            finding = task.finding(
                f"服务操作 {operator.get('id')} 按定时事件“{event}”的表达式确定期限，"
                "但流程中没有这个按日期计时的定时事件"
            )
            if finding not in findings:
                findings.append(finding)
        for event, problem in context.uncounted.items():
            finding = task.finding(f"服务操作 {operator.get('id')} 要写明定时事件“{event}”的期间：{problem}")
            if finding not in findings:
                findings.append(finding)


class _SampleContext:
    """A `handlers.api.HandlerContext` that writes nothing and knows every organisation by a sample."""

    case_no = "FT0000-000000"
    title = "样例案件"
    actor = "check"
    actor_name = "流程检查"
    petition_office_id = mediation_org_id = justice_org_id = None
    outcome = None
    collective_headcount = 5
    actor_org_id = None

    def __init__(
        self,
        now: datetime,
        calendar: WorkingCalendar,
        data: Mapping[str, Any],
        task: str,
        timers: Mapping[str, str],
    ) -> None:
        self.now, self.calendar, self.data, self.task_name = now, calendar, data, task
        self._timers = timers
        self.missing_timers: list[str] = []
        # timers whose period the operation states, by event id: why none can be stated
        self.uncounted: dict[str, str] = {}

    def timer_due(self, event: str, data: Mapping[str, Any], *, rest_days: bool = True) -> datetime:
        # What is wrong is reported once, where it is (a missing timer on the operation's task, an expression
        # on its timer); the handler gets a sample moment so that the data after it is still checked.
        if event not in self._timers:
            self.missing_timers.append(event)
            return self.now
        try:
            return timer_due(
                self._timers[event], {**self.data, **data}, self.calendar if rest_days else EveryDayCalendar()
            )
        except Exception:
            return self.now

    def timer_period(self, event: str, data: Mapping[str, Any]) -> api.Period:
        # as timer_due: reported where it is wrong, a sample period for the handler
        if event not in self._timers:
            self.missing_timers.append(event)
            return SAMPLE_PERIOD
        try:
            return timer_period(self._timers[event], {**self.data, **data}, self.calendar)
        except UncountedPeriod as exc:
            self.uncounted[event] = str(exc)
            return SAMPLE_PERIOD
        except Exception:
            return SAMPLE_PERIOD

    def notify(self, org_id: int | None, role: str, kind: str, message: str) -> None:
        pass

    def issue_document(self, kind: str, content: Mapping[str, Any]) -> str:
        return f"样例〔{kind}〕1号"

    def record_outcome(self, outcome: str) -> None:
        pass

    def assign_organisations(self, **organisations: int | None) -> None:
        pass

    def start_petition_clock(self, at: datetime) -> None:
        pass

    def pause_petition_clock(self) -> None:
        pass

    def resume_petition_clock(self, at: datetime | None = None) -> None:
        pass

    def conclude_petition(self, at: datetime) -> None:
        pass

    def petition_clock_paused(self) -> bool:
        return False

    def organisations_for(self, locality: str) -> api.LocalOrganisations:
        sample = api.Organisation(0, str(locality), "样例机构")
        return api.LocalOrganisations(sample, sample, sample)

    def organisations_above(self, org_id: int | None) -> api.LocalOrganisations:
        sample = api.Organisation(0, "upper", "样例上级机构")
        return api.LocalOrganisations(sample, sample, sample)

    def mediation_org(self, code: str) -> api.Organisation:
        return api.Organisation(0, str(code), "样例人民调解组织")

    def earlier_cases(self, parties_key: str, outcomes: Sequence[str]) -> list[api.EarlierCase]:
        return []

    def running_cases(self, parties_key: str) -> list[api.EarlierCase]:
        return []

    def petitioner_cases(self) -> list[api.EarlierCase]:
        return []
