"""/api/v1/projects and their tasks: list (status filter, pagination with a true total), create
(Idempotency-Key), read, partial update."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime
from functools import cache
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy import Select, bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sierra_core.db.models import Contact, Project, ProjectTask
from sierra_sync.web.api.auth import ApiContext, app_deps, now_of, require
from sierra_sync.web.api.common import (
    ERRORS,
    IdempotencyKey,
    Limit,
    Offset,
    columns,
    idempotent,
    invalid,
    not_found,
    page,
    windowed,
)
from sierra_sync.web.api.errors import ApiError
from sierra_sync.web.api.lean import LeanList
from sierra_sync.web.api.schemas import (
    PROJECT_COLUMNS,
    NewTask,
    One,
    Page,
    ProjectCreate,
    ProjectOut,
    ProjectStatus,
    ProjectUpdate,
    TaskCreate,
    TaskOut,
    TaskStatus,
    TaskUpdate,
)
from sierra_sync.web.deps import AppDeps

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["projects"], responses=ERRORS)
Deps = Annotated[AppDeps, Depends(app_deps)]
ReadProjects = Annotated[ApiContext, Depends(require("projects", "read"))]
WriteProjects = Annotated[ApiContext, Depends(require("projects", "write"))]
ReadTasks = Annotated[ApiContext, Depends(require("tasks", "read"))]
WriteTasks = Annotated[ApiContext, Depends(require("tasks", "write"))]
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {**ERRORS[400], "description": "Conflict (a code already used, an Idempotency-Key reused)"}
}


# The API's names for the columns whose names differ (the brief's createProjectSchema).
_RENAMED = {field: getattr(Project, column) for field, column in PROJECT_COLUMNS.items()}


def project_json(row: Project) -> dict[str, Any]:
    fields = {name: getattr(row, PROJECT_COLUMNS.get(name, name)) for name in ProjectOut.model_fields}
    return ProjectOut.model_validate(fields).model_dump(mode="json")


def _as_columns(values: dict[str, Any]) -> dict[str, Any]:
    return {PROJECT_COLUMNS.get(name, name): value for name, value in values.items()}


def task_json(row: ProjectTask) -> dict[str, Any]:
    return TaskOut.model_validate(row, from_attributes=True).model_dump(mode="json")


def _project(session: Session, ctx: ApiContext, project_id: uuid.UUID, *, lock: bool = False) -> Project:
    query = select(Project).where(
        Project.id == project_id, Project.company_id == ctx.company_id, Project.deleted_at.is_(None)
    )
    row = session.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise not_found("project")
    return row


def _check_refs(
    session: Session, ctx: ApiContext, values: dict[str, Any], project_id: uuid.UUID | None
) -> None:
    client_id = values.get("client_id")
    if client_id is not None:
        found = session.scalar(
            select(Contact.id).where(
                Contact.id == client_id, Contact.company_id == ctx.company_id, Contact.deleted_at.is_(None)
            )
        )
        if found is None:
            raise invalid("client_id", "no contact with that id in your company")
    _check_code(session, ctx, values.get("code"), project_id)


def _check_code(session: Session, ctx: ApiContext, code: str | None, project_id: uuid.UUID | None) -> None:
    """409 when another live project of the company has `code` (the unique index also enforces it)."""
    if code is None:
        return
    clash = session.scalar(
        select(Project.id).where(
            Project.company_id == ctx.company_id,
            Project.code == code,
            Project.deleted_at.is_(None),
            Project.id != project_id if project_id else Project.id.is_not(None),
        )
    )
    if clash is not None:
        raise ApiError(409, "conflict", f"project code {code!r} is already used by project {clash}")


def _dates_in_order(start: date | None, end: date | None) -> None:
    if start is not None and end is not None and end < start:
        raise invalid("target_completion", "target_completion must not be before the start date")


def _lost_code_race(deps: AppDeps, ctx: ApiContext, code: str | None, project_id: uuid.UUID | None) -> None:
    """After an IntegrityError: a concurrent request took the code between our check and our write (the
    unique index refused ours), so answer 409 as the check would have; other integrity errors propagate."""
    with deps.sessions() as session:
        _check_code(session, ctx, code, project_id)


@cache
def _project_list(by_status: bool) -> Select[Any]:
    """The statement of a project list page, built once (bound: company_id, status, see `windowed`)."""
    query = select(*columns(ProjectOut, Project, **_RENAMED)).where(
        Project.company_id == bindparam("company_id"), Project.deleted_at.is_(None)
    )
    if by_status:
        query = query.where(Project.status == bindparam("status"))
    return windowed(query.order_by(Project.created_at.desc(), Project.id))


def _projects_page(ctx: ApiContext, query: dict[str, Any]) -> tuple[Select[Any], dict[str, Any]]:
    """The statement of a project list page and its values (the route and its lean path share it)."""
    params: dict[str, Any] = {"company_id": ctx.company_id}
    if query.get("status") is not None:
        params["status"] = query["status"]
    return _project_list("status" in params), params


@router.get("/projects", response_model=Page[ProjectOut], summary="List projects")
def list_projects(
    ctx: ReadProjects,
    deps: Deps,
    status: Annotated[ProjectStatus | None, Query(description="Only projects in this status.")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Any:
    statement, params = _projects_page(ctx, {"status": status})
    with deps.autocommit.connect() as conn:
        return page(conn, statement, limit, offset, ProjectOut, params=params)


@router.post(
    "/projects",
    status_code=201,
    response_model=One[ProjectOut],
    summary="Create a project",
    responses=CONFLICT,
)
def create_project(body: ProjectCreate, ctx: WriteProjects, deps: Deps, key: IdempotencyKey = None) -> Any:
    values = body.model_dump()
    _dates_in_order(body.start_date, body.target_completion)

    def work(session: Session) -> tuple[int, Any]:
        _check_refs(session, ctx, values, None)
        row = Project(company_id=ctx.company_id, **_as_columns(values))
        session.add(row)
        session.flush()
        return 201, {"data": project_json(row)}

    dumped = body.model_dump(mode="json")
    try:
        return idempotent(deps, ctx, key, "POST", "/api/v1/projects", dumped, work)
    except IntegrityError:
        _lost_code_race(deps, ctx, values.get("code"), None)
        raise


@router.get("/projects/{project_id}", response_model=One[ProjectOut], summary="Get a project")
def get_project(project_id: uuid.UUID, ctx: ReadProjects, deps: Deps) -> Any:
    with deps.sessions() as session:
        return {"data": project_json(_project(session, ctx, project_id))}


@router.patch(
    "/projects/{project_id}", response_model=One[ProjectOut], summary="Update a project", responses=CONFLICT
)
def update_project(project_id: uuid.UUID, body: ProjectUpdate, ctx: WriteProjects, deps: Deps) -> Any:
    values = body.model_dump(exclude_unset=True)
    try:
        return _update_project(project_id, values, ctx, deps)
    except IntegrityError:
        _lost_code_race(deps, ctx, values.get("code"), project_id)
        raise


def _update_project(project_id: uuid.UUID, values: dict[str, Any], ctx: ApiContext, deps: AppDeps) -> Any:
    with deps.sessions.begin() as session:
        row = _project(session, ctx, project_id, lock=True)
        _check_refs(session, ctx, values, row.id)
        _dates_in_order(
            values.get("start_date", row.start_date), values.get("target_completion", row.end_date)
        )
        for name, value in _as_columns(values).items():
            setattr(row, name, value)
        session.flush()
        return {"data": project_json(row)}


# --- tasks ------------------------------------------------------------------------------------------------


def _task(session: Session, ctx: ApiContext, project_id: uuid.UUID, task_id: uuid.UUID) -> ProjectTask:
    row = session.scalar(
        select(ProjectTask).where(
            ProjectTask.id == task_id,
            ProjectTask.project_id == project_id,
            ProjectTask.company_id == ctx.company_id,
            ProjectTask.deleted_at.is_(None),
        )
    )
    if row is None:
        raise not_found("task")
    return row


def _completion(row: ProjectTask, now: datetime) -> None:
    if row.status == "done" and row.completed_at is None:
        row.completed_at = now
    elif row.status != "done":
        row.completed_at = None


@router.get(
    "/projects/{project_id}/tasks",
    response_model=Page[TaskOut],
    tags=["tasks"],
    summary="List a project's tasks",
)
def list_tasks(
    project_id: uuid.UUID,
    ctx: ReadTasks,
    deps: Deps,
    status: Annotated[TaskStatus | None, Query(description="Only tasks in this status.")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Any:
    with deps.sessions() as session:
        _project(session, ctx, project_id)
        query = _task_query(ctx, status).where(ProjectTask.project_id == project_id)
        query = query.order_by(ProjectTask.created_at, ProjectTask.id)
        return page(session.connection(), query, limit, offset, TaskOut)


def _task_query(ctx: ApiContext, status: str | None) -> Select[Any]:
    query = select(*columns(TaskOut, ProjectTask)).where(
        ProjectTask.company_id == ctx.company_id, ProjectTask.deleted_at.is_(None)
    )
    return query if status is None else query.where(ProjectTask.status == status)


@cache
def _task_list(by_project: bool, by_status: bool) -> Select[Any]:
    """The statement of a page of GET /tasks, built once (bound: company_id, project_id, status)."""
    query = select(*columns(TaskOut, ProjectTask)).where(
        ProjectTask.company_id == bindparam("company_id"), ProjectTask.deleted_at.is_(None)
    )
    if by_project:
        query = query.where(ProjectTask.project_id == bindparam("project_id"))
    if by_status:
        query = query.where(ProjectTask.status == bindparam("status"))
    return windowed(query.order_by(ProjectTask.created_at.desc(), ProjectTask.id))


def _tasks_page(ctx: ApiContext, query: dict[str, Any]) -> tuple[Select[Any], dict[str, Any]]:
    """The statement of a GET /tasks page and its values (the route and its lean path share it)."""
    params: dict[str, Any] = {"company_id": ctx.company_id}
    for name in ("project_id", "status"):
        if query.get(name) is not None:
            params[name] = query[name]
    return _task_list("project_id" in params, "status" in params), params


@router.get("/tasks", response_model=Page[TaskOut], tags=["tasks"], summary="List tasks, newest first")
def list_all_tasks(
    ctx: ReadTasks,
    deps: Deps,
    project_id: Annotated[uuid.UUID | None, Query(description="Only the tasks of this project.")] = None,
    status: Annotated[TaskStatus | None, Query(description="Only tasks in this status.")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Any:
    statement, params = _tasks_page(ctx, {"project_id": project_id, "status": status})
    with deps.autocommit.connect() as conn:
        return page(conn, statement, limit, offset, TaskOut, params=params)


# GET list routes the API guard answers itself on PostgreSQL when it can (api.lean).
LEAN = (
    LeanList("/api/v1/projects", "projects", ProjectOut, _projects_page),
    LeanList("/api/v1/tasks", "tasks", TaskOut, _tasks_page),
)


def _add_task(
    deps: AppDeps,
    ctx: ApiContext,
    project_id: uuid.UUID,
    values: dict[str, Any],
    key: str | None,
    path: str,
    dumped: dict[str, Any],
    missing: Callable[[], ApiError],
) -> Any:
    now = now_of(deps)

    def work(session: Session) -> tuple[int, Any]:
        try:
            _project(session, ctx, project_id)
        except ApiError:
            raise missing() from None
        row = ProjectTask(company_id=ctx.company_id, project_id=project_id, **values)
        _completion(row, now)
        session.add(row)
        session.flush()
        return 201, {"data": task_json(row)}

    return idempotent(deps, ctx, key, "POST", path, dumped, work)


@router.post(
    "/tasks",
    status_code=201,
    response_model=One[TaskOut],
    tags=["tasks"],
    summary="Add a task to the project named in the body",
    responses=CONFLICT,
)
def create_any_task(body: NewTask, ctx: WriteTasks, deps: Deps, key: IdempotencyKey = None) -> Any:
    values = body.model_dump(exclude={"project_id"})

    def missing() -> ApiError:
        return invalid("project_id", "no project with that id in your company")

    dumped = body.model_dump(mode="json")
    return _add_task(deps, ctx, body.project_id, values, key, "/api/v1/tasks", dumped, missing)


@router.post(
    "/projects/{project_id}/tasks",
    status_code=201,
    response_model=One[TaskOut],
    tags=["tasks"],
    summary="Add a task to a project",
    responses=CONFLICT,
)
def create_task(
    project_id: uuid.UUID, body: TaskCreate, ctx: WriteTasks, deps: Deps, key: IdempotencyKey = None
) -> Any:
    path = f"/api/v1/projects/{project_id}/tasks"
    dumped = body.model_dump(mode="json")
    return _add_task(
        deps, ctx, project_id, body.model_dump(), key, path, dumped, lambda: not_found("project")
    )


@router.get(
    "/projects/{project_id}/tasks/{task_id}",
    response_model=One[TaskOut],
    tags=["tasks"],
    summary="Get a task",
)
def get_task(project_id: uuid.UUID, task_id: uuid.UUID, ctx: ReadTasks, deps: Deps) -> Any:
    with deps.sessions() as session:
        return {"data": task_json(_task(session, ctx, project_id, task_id))}


@router.patch(
    "/projects/{project_id}/tasks/{task_id}",
    response_model=One[TaskOut],
    tags=["tasks"],
    summary="Update a task",
)
def update_task(
    project_id: uuid.UUID, task_id: uuid.UUID, body: TaskUpdate, ctx: WriteTasks, deps: Deps
) -> Any:
    values = body.model_dump(exclude_unset=True)
    with deps.sessions.begin() as session:
        row = _task(session, ctx, project_id, task_id)
        for name, value in values.items():
            setattr(row, name, value)
        _completion(row, now_of(deps))
        session.flush()
        return {"data": task_json(row)}
