"""The views of 流程管理: pages render the services' answers; the editor's calls (save, check, scenarios,
deploy, form preview) answer JSON, errors included ({"error": message, "findings": [...]})."""

from __future__ import annotations

import io
from dataclasses import asdict
from typing import Any

from flask import jsonify, redirect, render_template, request, send_file, url_for
from werkzeug.wrappers import Response

from orchestration.domain.forms import FormError, parse_form_text
from orchestration.domain.procedure import BPMN, DMN, FORMS, JSON, SCENARIOS, DeployError, Finding
from orchestration.errors import FangtiaoError, InvalidData
from orchestration.services.recorder import CaseRow, Refused
from orchestration.services.repository import ChangeSummary, DraftView
from webapp.context import services, viewer
from webapp.documents import field_title
from webapp.errors import respond
from webapp.formatting import CASE_STATUS, OUTCOMES, cn_datetime, role_name
from webapp.forms_ui import field_views
from webapp.policy import bp

Page = str | tuple[str, int] | Response


def _finding(finding: Finding) -> dict[str, Any]:
    return {**asdict(finding), "line": finding.line(), "where": finding.where()}


@bp.errorhandler(FangtiaoError)
def refused(exc: FangtiaoError) -> Any:
    """The editor's calls get JSON (with the check's findings when a deployment was refused, and the
    error keys that record a recorded step's refusal as expected)."""
    if request.is_json or request.accept_mimetypes.best == "application/json":
        findings = [_finding(f) for f in exc.findings] if isinstance(exc, DeployError) else []
        errors = exc.errors if isinstance(exc, InvalidData) else {}
        answer = {"error": exc.message, "findings": findings, "errors": errors}
        if isinstance(exc, Refused):
            answer["refusal"] = exc.expected
        return jsonify(answer), exc.status
    return respond(exc.status, exc.message)


def _changes(changes: ChangeSummary) -> list[str]:
    """What changed against the version before, one line per kind, in Chinese."""
    lines = []
    for label, elements in (("新增", changes.added), ("删除", changes.removed), ("修改", changes.changed)):
        if elements:
            names = "、".join(
                f"{e.name or e.id}" + (f"（{'，'.join(e.changes)}）" if e.changes else "") for e in elements
            )
            lines.append(f"{label}环节：{names}")
    for label, items in (
        ("期限变化", changes.deadlines_changed),
        ("表单变化", changes.forms_changed),
        ("场景变化", changes.scenarios_changed),
    ):
        if items:
            lines.append(f"{label}：{'、'.join(items)}")
    return lines


@bp.get("")
def home() -> Page:
    repository = services().repository
    return render_template(
        "policy/home.html", processes=repository.processes(viewer()), drafts=repository.drafts(viewer())
    )


@bp.get("/processes/<process_id>")
def process(process_id: str) -> Page:
    repository = services().repository
    versions = repository.versions(viewer(), process_id)
    drafts = [d for d in repository.drafts(viewer()) if d.process_id == process_id]
    names = {p.process_id: p.name for p in repository.processes(viewer())}
    return render_template(
        "policy/process.html",
        process_id=process_id,
        name=names.get(process_id, process_id),
        versions=versions,
        changes={v.id: _changes(v.changes) for v in versions},
        drafts=drafts,
    )


@bp.get("/versions/<int:version_id>/export.zip")
def export(version_id: int) -> Response:
    return send_file(
        io.BytesIO(services().repository.export(viewer(), version_id)),
        mimetype="application/zip",
        as_attachment=True,
        download_name=f"procedure-version-{version_id}.zip",
        max_age=0,
    )


@bp.get("/versions/<int:version_id>")
def version(version_id: int) -> Page:
    """A version's diagram in the same viewer as the case pages, with its files listed."""
    files = services().repository.version_files(viewer(), version_id)
    return render_template("policy/version.html", version_id=version_id, names=sorted(files))


@bp.get("/versions/<int:version_id>/diagram.bpmn")
def version_diagram(version_id: int) -> Response:
    files = services().repository.version_files(viewer(), version_id)
    diagrams = sorted(name for name in files if name.endswith(BPMN))
    if not diagrams:
        raise InvalidData("该版本没有流程图文件")
    return Response(files[diagrams[0]], mimetype="application/xml")


@bp.post("/versions/<int:version_id>/draft")
def new_draft(version_id: int) -> Response:
    draft = services().repository.create_draft(viewer(), version_id)
    return redirect(url_for("policy.draft", draft_id=draft.id))


# ---- the editor ------------------------------------------------------------------------------------


def _draft_json(draft: DraftView) -> dict[str, Any]:
    return {
        "id": draft.id,
        "revision": draft.revision,
        "files": draft.files,
        "owner": draft.owner,
        "owner_name": draft.owner_name,
        "based_on_number": draft.based_on_number,
    }


@bp.get("/drafts/<int:draft_id>")
def draft(draft_id: int) -> Page:
    d = services().repository.draft(viewer(), draft_id)
    names = sorted(d.files)
    return render_template(
        "policy/draft.html",
        draft=d,
        mine=d.owner == viewer().username,
        diagrams=[n for n in names if n.endswith(BPMN)],
        tables=[n for n in names if n.endswith(DMN)],
        forms=[n for n in names if n.startswith(FORMS)],
        scenarios=[n for n in names if n.startswith(SCENARIOS) and n.endswith(JSON)],
    )


@bp.get("/drafts/<int:draft_id>/files.json")
def draft_files(draft_id: int) -> Response:
    return jsonify(_draft_json(services().repository.draft(viewer(), draft_id)))


@bp.post("/drafts/<int:draft_id>/files.json")
def save(draft_id: int) -> Response:
    """Saves the draft over the revision the editor loaded; an older revision is a conflict (409)."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("files"), dict):
        raise InvalidData('请以 JSON 提交草稿文件：{"files": {…}, "expected_revision": N}')
    files, revision = body["files"], body.get("expected_revision")
    if not isinstance(revision, int) or not all(isinstance(v, str) for v in files.values()):
        raise InvalidData("草稿必须注明所基于的修订号，文件内容必须是文本")
    return jsonify(_draft_json(services().repository.save_draft(viewer(), draft_id, files, revision)))


@bp.post("/drafts/<int:draft_id>/check")
def check(draft_id: int) -> Response:
    findings = services().repository.check(viewer(), draft_id)
    return jsonify({"findings": [_finding(f) for f in findings]})


@bp.post("/drafts/<int:draft_id>/timer")
def timer(draft_id: int) -> Response:
    """The side panel's timer builder: the expression's fields and the moment it gives with the check's
    sample data. An expression giving none is answered like one that gives one, with why in "error" (the
    builder evaluates while the officer types; a refused request is one that is not of this shape)."""
    body = request.get_json(silent=True)
    expression = body.get("expression") if isinstance(body, dict) else None
    if not isinstance(expression, str):
        raise InvalidData('请以 JSON 提交定时表达式：{"expression": "…"}')
    shown = services().repository.timer_preview(viewer(), draft_id, expression)
    display = cn_datetime(shown.value) if shown.value else None
    return jsonify({**asdict(shown), "error": shown.problem, "display": display})


@bp.post("/drafts/<int:draft_id>/scenarios")
def scenarios(draft_id: int) -> Response:
    report = services().repository.run_scenarios(viewer(), draft_id)
    rows = [asdict(r) for r in report.rows]
    return jsonify({"deployed_version_id": report.deployed_version_id, "rows": rows})


@bp.post("/drafts/<int:draft_id>/scenarios/new")
def record_scenario(draft_id: int) -> Response:
    """Keeps a scenario written in the editor or recorded with the draft (checked against the scenario
    schema), over the revision the page loaded, as a save is."""
    body = request.get_json(silent=True)
    scenario = body.get("scenario") if isinstance(body, dict) else None
    revision = body.get("expected_revision") if isinstance(body, dict) else None
    if not isinstance(scenario, dict) or not isinstance(revision, int):
        raise InvalidData('请以 JSON 对象提交场景：{"scenario": {…}, "expected_revision": N}')
    name = services().repository.record_scenario(viewer(), draft_id, scenario, revision)
    return jsonify({"file": name, **_draft_json(services().repository.draft(viewer(), draft_id))})


# ---- the scenario recorder ---------------------------------------------------------------------------


@bp.get("/drafts/<int:draft_id>/recorder")
def recorder(draft_id: int) -> Page:
    d = services().repository.recorder_draft(viewer(), draft_id)
    return render_template("policy/recorder.html", draft=d, mine=d.owner == viewer().username)


@bp.post("/drafts/<int:draft_id>/recorder")
def replay(draft_id: int) -> Response:
    """The recorder's one call: the scenario so far replayed on the draft, the proposed step tried, the
    form asked for drawn by the task pages' own template; a failing step answers 422 with its errors."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidData('请以 JSON 对象提交录制中的场景：{"clock": …, "steps": […]}')
    recording = services().repository.replay(
        viewer(), draft_id, body.get("clock"), body.get("steps"), body.get("propose"), body.get("form")
    )
    form = recording.form
    return jsonify(
        {
            "now": recording.now.isoformat(),
            "now_text": cn_datetime(recording.now),
            "step": recording.step,
            "registrars": [asdict(p) for p in recording.registrars],
            "cases": [_recorded_case(c) for c in recording.cases],
            "form_html": render_template(
                "policy/form_preview.html",
                form=form.form,
                views=field_views(form.form, form.values, {}, form.options),
                message=None,
            )
            if form is not None
            else None,
        }
    )


def _recorded_case(case: CaseRow) -> dict[str, Any]:
    forms = services().forms
    return {
        "case_no": case.case_no,
        "status": case.status,
        "status_text": CASE_STATUS.get(case.status, case.status),
        "outcome": case.outcome,
        "outcome_text": OUTCOMES.get(case.outcome or "", case.outcome or "无"),
        "documents": case.documents,
        "document_titles": case.document_titles,
        "timers": [{"name": name, "due_text": cn_datetime(due)} for name, due in case.timers],
        "expect": case.expect,
        "risk_reporters": [asdict(p) for p in case.risk_reporters],
        "extenders": [asdict(p) for p in case.extenders],
        "in_force": [
            {
                "kind": d.kind,
                "title": d.title,
                "number": d.number,
                "texts": [{"key": k, "label": field_title(k, forms), "value": v} for k, v in d.texts],
                "correctors": [asdict(p) for p in d.correctors],
            }
            for d in case.in_force
        ],
        "tasks": [
            {
                **asdict(t),
                "due": t.due.isoformat() if t.due else None,
                "due_text": cn_datetime(t.due) if t.due else "无期限",
                "role_name": role_name(t.role),
            }
            for t in case.tasks
        ],
    }


@bp.post("/drafts/<int:draft_id>/deploy")
def deploy(draft_id: int) -> Response:
    version = services().repository.deploy(viewer(), draft_id)
    return jsonify(
        {
            "number": version.number,
            "id": version.id,
            "url": url_for("policy.process", process_id=version.process_id, deployed=version.number),
        }
    )


@bp.post("/drafts/<int:draft_id>/delete")
def delete_draft(draft_id: int) -> Response:
    process_id = services().repository.draft(viewer(), draft_id).process_id
    services().repository.delete_draft(viewer(), draft_id)
    return redirect(url_for("policy.process", process_id=process_id))


@bp.post("/form-preview")
def form_preview() -> Page:
    """A form being edited, rendered by the code that renders task pages (or why it cannot be)."""
    body = request.get_json(silent=True) or {}
    name, text = str(body.get("name", "form")), str(body.get("text", ""))
    try:
        form = parse_form_text(name, text)
        views = field_views(form, {}, {}, {})
    except FormError as exc:
        return render_template("policy/form_preview.html", form=None, message=str(exc)), 422
    return render_template("policy/form_preview.html", form=form, views=views, message=None)


# ---- migration ---------------------------------------------------------------------------------------


@bp.get("/migrate")
def migration_preview() -> Page:
    source, target = request.args.get("from", type=int), request.args.get("to", type=int)
    if source is None or target is None:
        raise InvalidData("请选择迁移的源版本和目标版本")
    moves = services().repository.migration_preview(viewer(), source, target)
    return render_template("policy/migrate.html", moves=moves, source=source, target=target, report=None)


@bp.post("/migrate")
def migrate() -> Page:
    source, target = request.form.get("from", type=int), request.form.get("to", type=int)
    if source is None or target is None:
        raise InvalidData("请选择迁移的源版本和目标版本")
    chosen = request.form.getlist("case_no")
    if not chosen:
        raise InvalidData("请至少选择一件案件")
    report = services().repository.migrate(viewer(), source, target, chosen)
    moves = services().repository.migration_preview(viewer(), source, target)
    return render_template("policy/migrate.html", moves=moves, source=source, target=target, report=report)
