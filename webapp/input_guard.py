"""Requests refused before any view runs, with a Chinese 400, when they carry what no page can use: an
unusable character (NUL, a control, a lone surrogate; see orchestration.domain.text_input) in the path,
the query, a form field or an uploaded file's name; a page number that is not a small positive integer;
JSON that does not parse, nests too deep or holds an unusable character. Ids in paths are bounded to
PostgreSQL's integer (a larger one is simply not found, 404) instead of overflowing in the database."""

from __future__ import annotations

from typing import Any

from flask import Flask, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.routing import IntegerConverter, Map

from orchestration.domain import text_input
from webapp.errors import respond

INT32_MAX = 2**31 - 1
MAX_PAGE_DIGITS = 6
PAGE_MESSAGE = f"页码应为 1 至 {10**MAX_PAGE_DIGITS - 1} 之间的整数"


class Int32Converter(IntegerConverter):
    """`<int:…>` limited to the ids a 32-bit integer column holds (PostgreSQL's INTEGER)."""

    def __init__(
        self, map: Map, fixed_digits: int = 0, min: int | None = None, max: int | None = INT32_MAX
    ) -> None:
        super().__init__(map, fixed_digits, min, max)


class BoundedJSONProvider(DefaultJSONProvider):
    """Request bodies parsed by text_input.loads: too deep or unusable JSON is a ValueError, which Flask
    turns into a 400 (or None for get_json(silent=True))."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return text_input.loads(s)


def _problem() -> tuple[str, str] | None:
    """The refusal's message and its /api/v1 code."""
    if text_input.unusable(request.path) or any(
        text_input.unusable(str(value)) for value in (request.view_args or {}).values()
    ):
        return f"地址{text_input.UNUSABLE_MESSAGE}", "invalid_text"
    for key, value in request.args.items(multi=True):
        if text_input.unusable(key) or text_input.unusable(value):
            return f"查询条件{text_input.UNUSABLE_MESSAGE}", "invalid_text"
    raw_page = request.args.get("page") or ""
    if raw_page and (
        not (raw_page.isascii() and raw_page.isdigit() and len(raw_page) <= MAX_PAGE_DIGITS)
        or int(raw_page) < 1
    ):
        return PAGE_MESSAGE, "invalid_parameter"
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        for key, value in request.form.items(multi=True):
            if text_input.unusable(key) or text_input.unusable(value):
                return f"提交的内容{text_input.UNUSABLE_MESSAGE}", "invalid_text"
        for upload in request.files.values():
            if upload.filename and text_input.unusable(upload.filename.replace("\r", "").replace("\n", "")):
                return f"文件名{text_input.UNUSABLE_MESSAGE}", "invalid_text"
        # Parsed once, here: the views' get_json(silent=True) answers from the request's cache; only a
        # body that did not parse is read again, for the reason.
        if request.is_json and request.get_data(cache=True) and request.get_json(silent=True) is None:
            try:
                text_input.loads(request.get_data(cache=True))
            except text_input.UnusableInput as exc:
                unusable_text = text_input.UNUSABLE_MESSAGE in str(exc)
                return str(exc), "invalid_text" if unusable_text else "invalid_json"
    return None


def register(app: Flask) -> None:
    """Before any blueprint is registered: the converter applies to the rules as they are added."""
    app.url_map.converters["int"] = Int32Converter
    app.json = BoundedJSONProvider(app)

    @app.before_request
    def refuse_odd_input() -> tuple[Any, int] | None:
        problem = _problem()
        return respond(400, problem[0], code=problem[1]) if problem else None
