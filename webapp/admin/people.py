"""人员 and 机构与区域: users (list, create, edit, deactivate and reactivate, reset a password), and the
tree of regions with their organisations (create, edit, remove). A refused change shows its reason on the
page it came from, with the status of the refusal; nothing of it is stored."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from orchestration.domain.assignment import ROLE_NAMES
from orchestration.domain.organisations import CHILD_LEVEL, KIND_NAMES, LEVEL_NAMES
from orchestration.errors import Conflict, FangtiaoError, Forbidden, InvalidData
from orchestration.services.admin_people import ROLES, OrganisationRow, RegionNode, UserFilter
from webapp.admin import bp
from webapp.context import services, viewer

Page = str | tuple[str, int] | Response
ROLE_CHOICES = [(role, ROLE_NAMES[role]) for role in ROLES]
KIND_CHOICES = list(KIND_NAMES.items())
STATUS_FILTERS = {"active": True, "inactive": False}
# What a refusal of a change is shown as on its page (a 404 is the error page: there is no page to show).
SHOWN_REFUSALS = (InvalidData, Forbidden, Conflict)


def _form(*names: str) -> dict[str, str]:
    return {name: request.form.get(name, "") for name in names}


def _page_arg() -> int:
    raw = request.args.get("page", "")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else 1


def _refusal(exc: FangtiaoError) -> tuple[dict[str, str], str, int]:
    """(field errors, message, status) of a refused change."""
    return (exc.errors if isinstance(exc, InvalidData) else {}), exc.message, exc.status


# ---- users ----------------------------------------------------------------------------------------


@bp.get("/users")
def users() -> Page:
    status = request.args.get("status", "")
    filters = UserFilter(
        text=request.args.get("q") or None,
        org_code=request.args.get("org") or None,
        active=STATUS_FILTERS.get(status),
        page=_page_arg(),
    )
    people = services().people
    return render_template(
        "admin/users.html",
        page=people.users(viewer(), filters),
        q=filters.text or "",
        org=filters.org_code or "",
        status=status,
        organisations=people.organisation_choices(viewer()),
    )


@bp.route("/users/new", methods=["GET", "POST"])
def users_new() -> Page:
    values: dict[str, str] = {"org_code": request.args.get("org", "")}
    errors: dict[str, str] = {}
    message, status = None, 200
    if request.method == "POST":
        values = _form("username", "display_name", "role", "org_code", "password", "reason")
        try:
            services().people.create_user(viewer(), **values)
        except SHOWN_REFUSALS as exc:
            errors, message, status = _refusal(exc)
        else:
            flash(f"已新建用户 {values['username'].strip()}；其首次登录时须修改密码", "success")
            return redirect(url_for("admin.users_edit", username=values["username"].strip()))
        values.pop("password")  # a password is never sent back to the browser
    return (
        render_template(
            "admin/user_new.html",
            values=values,
            errors=errors,
            message=message,
            roles=ROLE_CHOICES,
            organisations=services().people.organisation_choices(viewer()),
        ),
        status,
    )


def _user_page(
    username: str,
    form: str | None = None,
    values: dict[str, str] | None = None,
    refusal: tuple[dict[str, str], str, int] | None = None,
) -> Page:
    """The user's page; after a refused change, with what was typed into that form and why."""
    user = services().people.user(viewer(), username)
    errors, message, status = refusal or ({}, None, 200)
    shown = {"display_name": user.display_name, "role": user.role, "org_code": user.org_code or ""}
    if form == "edit" and values is not None:
        shown.update(values)
    return (
        render_template(
            "admin/user_edit.html",
            user=user,
            values=shown,
            form=form,
            errors=errors,
            message=message,
            roles=ROLE_CHOICES,
            organisations=services().people.organisation_choices(viewer()),
            is_self=user.username == viewer().username,
        ),
        status,
    )


@bp.route("/users/<username>", methods=["GET", "POST"])
def users_edit(username: str) -> Page:
    if request.method == "GET":
        return _user_page(username)
    values = _form("display_name", "role", "org_code", "reason")
    try:
        released = services().people.update_user(viewer(), username, **values)
    except SHOWN_REFUSALS as exc:
        return _user_page(username, "edit", values, _refusal(exc))
    flash("用户信息已保存" + (f"；其认领的 {released} 项待办已退回任务池" if released else ""), "success")
    return redirect(url_for("admin.users_edit", username=username))


@bp.post("/users/<username>/deactivate")
def users_deactivate(username: str) -> Page:
    try:
        released = services().people.deactivate_user(viewer(), username, request.form.get("reason", ""))
    except SHOWN_REFUSALS as exc:
        return _user_page(username, "deactivate", refusal=_refusal(exc))
    flash(
        f"已停用用户 {username}，其登录已失效"
        + (f"；其认领的 {released} 项待办已退回所在机构的任务池" if released else ""),
        "success",
    )
    return redirect(url_for("admin.users_edit", username=username))


@bp.post("/users/<username>/reactivate")
def users_reactivate(username: str) -> Page:
    try:
        services().people.reactivate_user(viewer(), username, request.form.get("reason", ""))
    except SHOWN_REFUSALS as exc:
        return _user_page(username, "deactivate", refusal=_refusal(exc))
    flash(f"已重新启用用户 {username}", "success")
    return redirect(url_for("admin.users_edit", username=username))


@bp.post("/users/<username>/password")
def users_password(username: str) -> Page:
    values = _form("password", "reason")
    try:
        services().people.reset_password(viewer(), username, values["password"], values["reason"])
    except SHOWN_REFUSALS as exc:
        return _user_page(username, "password", refusal=_refusal(exc))
    flash(f"已重置 {username} 的密码，其现有登录已失效；下次登录时须修改密码", "success")
    return redirect(url_for("admin.users_edit", username=username))


@bp.post("/users/<username>/sessions/end")
def users_end_sessions(username: str) -> Page:
    try:
        ended = services().people.end_user_sessions(viewer(), username, request.form.get("reason", ""))
    except SHOWN_REFUSALS as exc:
        return _user_page(username, "sessions", refusal=_refusal(exc))
    flash(f"已结束 {username} 的全部登录（{ended} 个）", "success")
    return redirect(url_for("admin.users_edit", username=username))


# ---- regions and organisations --------------------------------------------------------------------


def _flatten(nodes: list[RegionNode], depth: int = 0) -> list[tuple[RegionNode, int]]:
    found = []
    for node in nodes:
        found.append((node, depth))
        found += _flatten(node.children, depth + 1)
    return found


def _region_choices(parents_only: bool = False) -> list[tuple[str, str]]:
    """(code, name indented by depth) of the administrator's regions; `parents_only`: those that may
    have regions below them."""
    return [
        (node.code, "　" * depth + node.name)
        for node, depth in _flatten(services().people.tree(viewer()))
        if not parents_only or node.level in CHILD_LEVEL
    ]


@bp.get("/organisations")
def organisations() -> Page:
    return render_template(
        "admin/organisations.html",
        tree=services().people.tree(viewer()),
        kinds=KIND_NAMES,
        levels=LEVEL_NAMES,
        child_level=CHILD_LEVEL,
    )


def _organisation_form(
    template: str, values: dict[str, str], refusal: tuple[dict[str, str], str, int] | None, **context: Any
) -> Page:
    errors, message, status = refusal or ({}, None, 200)
    return (
        render_template(
            template,
            values=values,
            errors=errors,
            message=message,
            kinds=KIND_CHOICES,
            kind_names=KIND_NAMES,
            levels=LEVEL_NAMES,
            **context,
        ),
        status,
    )


def _organisation_values(organisation: OrganisationRow) -> dict[str, str]:
    return {
        "name": organisation.name,
        "document_prefix": organisation.document_prefix or "",
        "seal_name": organisation.seal_name or "",
        "court_name": organisation.court_name or "",
    }


@bp.route("/organisations/new", methods=["GET", "POST"])
def organisations_new() -> Page:
    values = {"region_code": request.args.get("region", "")}
    refusal = None
    if request.method == "POST":
        values = _form(
            "code", "name", "kind", "region_code", "document_prefix", "seal_name", "court_name", "reason"
        )
        try:
            services().people.create_organisation(viewer(), **values)
        except SHOWN_REFUSALS as exc:
            refusal = _refusal(exc)
        else:
            flash(f"已新建机构“{values['name'].strip()}”", "success")
            return redirect(url_for("admin.organisations"))
    return _organisation_form("admin/organisation_new.html", values, refusal, regions=_region_choices())


@bp.route("/organisations/<code>", methods=["GET", "POST"])
def organisations_edit(code: str) -> Page:
    people = services().people
    organisation = people.organisation(viewer(), code)
    values = _organisation_values(organisation)
    form, refusal = None, None
    if request.method == "POST":
        form, values = "edit", _form("name", "document_prefix", "seal_name", "court_name", "reason")
        try:
            people.update_organisation(viewer(), code, **values)
        except SHOWN_REFUSALS as exc:
            refusal = _refusal(exc)
        else:
            flash("机构信息已保存", "success")
            return redirect(url_for("admin.organisations_edit", code=code))
    return _organisation_form(
        "admin/organisation_edit.html", values, refusal, organisation=organisation, form=form
    )


@bp.post("/organisations/<code>/delete")
def organisations_delete(code: str) -> Page:
    people = services().people
    try:
        people.delete_organisation(viewer(), code, request.form.get("reason", ""))
    except SHOWN_REFUSALS as exc:
        organisation = people.organisation(viewer(), code)
        return _organisation_form(
            "admin/organisation_edit.html",
            _organisation_values(organisation),
            _refusal(exc),
            organisation=organisation,
            form="delete",
        )
    flash(f"已删除机构 {code}", "success")
    return redirect(url_for("admin.organisations"))


@bp.route("/regions/new", methods=["GET", "POST"])
def organisations_region_new() -> Page:
    values = {"parent_code": request.args.get("parent", "")}
    refusal = None
    if request.method == "POST":
        values = _form("code", "name", "parent_code", "reason")
        try:
            services().people.create_region(viewer(), **values)
        except SHOWN_REFUSALS as exc:
            refusal = _refusal(exc)
        else:
            flash(f"已新建区域“{values['name'].strip()}”", "success")
            return redirect(url_for("admin.organisations"))
    return _organisation_form(
        "admin/region_new.html", values, refusal, parents=_region_choices(parents_only=True)
    )


@bp.route("/regions/<code>", methods=["GET", "POST"])
def organisations_region_edit(code: str) -> Page:
    people = services().people
    region = people.region(viewer(), code)
    values = {"name": region.name}
    form, refusal = None, None
    if request.method == "POST":
        form, values = "edit", _form("name", "reason")
        try:
            people.update_region(viewer(), code, **values)
        except SHOWN_REFUSALS as exc:
            refusal = _refusal(exc)
        else:
            flash("区域名称已保存", "success")
            return redirect(url_for("admin.organisations"))
    return _organisation_form("admin/region_edit.html", values, refusal, region=region, form=form)


@bp.post("/regions/<code>/delete")
def organisations_region_delete(code: str) -> Page:
    people = services().people
    try:
        people.delete_region(viewer(), code, request.form.get("reason", ""))
    except SHOWN_REFUSALS as exc:
        region = people.region(viewer(), code)
        return _organisation_form(
            "admin/region_edit.html", {"name": region.name}, _refusal(exc), region=region, form="delete"
        )
    flash(f"已删除区域 {code}", "success")
    return redirect(url_for("admin.organisations"))
