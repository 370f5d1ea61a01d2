"""The marshmallow schemas of /api/v1: what a request body may hold and what each answer holds. The
OpenAPI document is generated from them (webapp/api_v1/spec.py), and the answers are dumped through them,
so the document cannot drift from what the API sends."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

MAX_INT = 2**31 - 1  # ids and revisions are 32-bit integers on PostgreSQL


class Strict(Schema):
    class Meta:
        unknown = RAISE


class ErrorBody(Schema):
    code = fields.String(required=True, metadata={"description": "稳定的错误代码，例如 not_found"})
    message = fields.String(required=True, metadata={"description": "中文说明"})
    # "fields" on the wire; a Schema's own `fields` attribute must not be shadowed
    field_errors = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        data_key="fields",
        metadata={"description": "字段名 → 该字段的问题"},
    )


class ErrorSchema(Schema):
    error = fields.Nested(ErrorBody, required=True)


# ---- requests ---------------------------------------------------------------------------------


class RegisterRequest(Strict):
    data = fields.Dict(
        keys=fields.String(),
        required=True,
        metadata={
            "description": "登记表（register_petition）的字段；locality 须为本单位辖区内的乡镇（街道）"
        },
    )


class FileUpload(Strict):
    filename = fields.String(required=True, validate=validate.Length(min=1, max=255))
    content_type = fields.String(load_default="application/octet-stream", validate=validate.Length(max=100))
    content_base64 = fields.String(required=True, metadata={"description": "文件内容，Base64 编码"})


class CompleteRequest(Strict):
    data = fields.Dict(keys=fields.String(), load_default=dict, metadata={"description": "任务表单的字段"})
    expected_revision = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=0, max=MAX_INT),
        metadata={"description": "读取任务时案件的 revision；案件已变化则 409"},
    )
    files = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.Nested(FileUpload)),
        load_default=dict,
        metadata={"description": "文件字段 → 上传的文件"},
    )


# ---- answers ----------------------------------------------------------------------------------


class TaskItem(Schema):
    id = fields.String(required=True)
    case_no = fields.String(required=True)
    case_title = fields.String(required=True)
    task_name = fields.String(required=True)
    title = fields.String(required=True)
    form = fields.String(required=True, allow_none=True)
    due_at = fields.DateTime(required=True, allow_none=True)
    due_state = fields.String(required=True, allow_none=True)
    claimed_by = fields.Integer(required=True, allow_none=True)
    revision = fields.Integer(required=True)


class TaskList(Schema):
    tasks = fields.List(fields.Nested(TaskItem), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    pages = fields.Integer(required=True)


class ClaimAnswer(Schema):
    task_id = fields.String(required=True)
    case_no = fields.String(required=True)
    title = fields.String(required=True)
    claimed_by = fields.Integer(required=True, allow_none=True)
    claimed_by_name = fields.String(required=True, allow_none=True)


class OpenTaskBrief(Schema):
    id = fields.String(required=True)
    task_name = fields.String(required=True)
    title = fields.String(required=True)
    due_at = fields.DateTime(required=True, allow_none=True)


class StepAnswer(Schema):
    case_no = fields.String(required=True)
    status = fields.String(required=True)
    revision = fields.Integer(required=True)
    open_tasks = fields.List(fields.Nested(OpenTaskBrief), required=True)


class CaseTask(Schema):
    id = fields.String(required=True)
    task_name = fields.String(required=True)
    title = fields.String(required=True)
    role = fields.String(required=True)
    due_at = fields.String(required=True, allow_none=True)
    claimed = fields.Boolean(required=True)


class CaseAnswer(Schema):
    """A case as its summary shows it: personal data always masked (the API offers no reveal)."""

    case_no = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.String(required=True)
    outcome = fields.String(required=True, allow_none=True)
    revision = fields.Integer(required=True)
    locality = fields.String(required=True)
    created_at = fields.String(required=True)
    updated_at = fields.String(required=True)
    organisations = fields.Dict(keys=fields.String(), required=True)
    petitioner = fields.Dict(keys=fields.String(), required=True)
    respondent = fields.Dict(keys=fields.String(), required=True)
    basics = fields.Dict(keys=fields.String(), required=True)
    open_tasks = fields.List(fields.Nested(CaseTask), required=True)


class DocumentBrief(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    title = fields.String(required=True)
    number = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    supersedes_id = fields.Integer(required=True, allow_none=True)


class AttachmentBrief(Schema):
    id = fields.Integer(required=True)
    filename = fields.String(required=True)
    content_type = fields.String(required=True)
    size = fields.Integer(required=True)
    sha256 = fields.String(required=True)
    uploaded_by = fields.String(required=True)
    uploaded_at = fields.DateTime(required=True)


class CaseFilesAnswer(Schema):
    case_no = fields.String(required=True)
    documents = fields.List(fields.Nested(DocumentBrief), required=True)
    attachments = fields.List(fields.Nested(AttachmentBrief), required=True)


class DocumentAnswer(Schema):
    """A document as issued, personal data masked."""

    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    title = fields.String(required=True)
    number = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    content = fields.Dict(keys=fields.String(), required=True)
    intact = fields.Boolean(required=True, metadata={"description": "文书内容与签发时的摘要一致"})
    supersedes = fields.String(required=True, allow_none=True)
    superseded_by = fields.String(required=True, allow_none=True)


class Instance(Schema):
    case_no = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.String(required=True)
    outcome = fields.String(required=True, allow_none=True)
    revision = fields.Integer(required=True)
    version_id = fields.Integer(required=True)
    locality_code = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)
    completed_at = fields.DateTime(required=True, allow_none=True)
    last_error = fields.String(required=True, allow_none=True)


class InstanceList(Schema):
    instances = fields.List(fields.Nested(Instance), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    pages = fields.Integer(required=True)


class SuspendAnswer(Schema):
    case_no = fields.String(required=True)
    status = fields.String(required=True)


class DraftBrief(Schema):
    id = fields.Integer(required=True)
    process_id = fields.String(required=True)
    owner = fields.String(required=True)
    based_on_number = fields.Integer(required=True)
    revision = fields.Integer(required=True)
    updated_at = fields.DateTime(required=True)


class DraftList(Schema):
    drafts = fields.List(fields.Nested(DraftBrief), required=True)


class VersionAnswer(Schema):
    id = fields.Integer(required=True)
    process_id = fields.String(required=True)
    number = fields.Integer(required=True)
    deployed_by = fields.String(required=True)
    deployed_at = fields.DateTime(required=True)
    running = fields.Integer(required=True)
