"""Names people read in the Prefect UI: flow and task runs name the company by name, the kind of run and
its period or trigger (`reconcile · Summit Ridge Builders · 2026-10`); artifact keys are stable per
company and flow (`summit-ridge-builders-reconcile`), so the UI keeps each one's history.

The run-name callables read the run's parameters through `prefect.runtime`; a company parameter may be
an id or a name, and is shown by name (looked up once per process). A value that names no company is
shown as given: the flow itself then fails with the one-line error.
"""

from __future__ import annotations

import calendar
import re
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from prefect.runtime import flow_run, task_run

from connectors.companies import resolve_company
from sierra_core.errors import SierraError
from sierra_core.settings import get_settings
from tasks.runtime import sessions

SEP = " · "
NAME_TTL_S = 60.0  # a renamed company shows its new name within a minute in a long-lived process
_NAMES: dict[tuple[str, str], tuple[str, float]] = {}
_NAMES_LOCK = threading.Lock()


def company_name(value: object) -> str:
    """The name of the company `value` (an id or a name) names; `value` itself when it names none.
    Looked up in this process's app database, and kept for a minute."""
    text = str(value)
    key = (get_settings().resolved_database_url(), text)
    now = time.monotonic()
    with _NAMES_LOCK:
        cached = _NAMES.get(key)
    if cached is not None and now - cached[1] < NAME_TTL_S:
        return cached[0]
    try:
        with sessions()() as session:
            name = resolve_company(session, text).name
    except SierraError:
        return text
    with _NAMES_LOCK:
        _NAMES[key] = (name, now)
    return name


def forget_names() -> None:
    """Drop the cached names (tests that rename companies, or a process pointed at another database)."""
    with _NAMES_LOCK:
        _NAMES.clear()


def slug(text: str) -> str:
    """Lowercase letters, digits and single dashes: what Prefect allows in an artifact key."""
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9]", "-", text.lower())).strip("-")


def artifact_key(company: object, flow: str, *parts: str) -> str:
    """`summit-ridge-builders-reconcile[-parts]`: one key per company and flow (and artifact)."""
    name = company_name(company) if company is not None else "all-companies"
    return slug("-".join([name, flow, *parts]))[:100].strip("-")


def period_label(start: object, end: object) -> str:
    """`2026-10` for a whole calendar month, `2026` for a whole year, else `2026-10-03..2026-11-02`."""
    if not isinstance(start, date) or not isinstance(end, date):
        return f"{start or '…'}..{end or 'today'}"
    last = calendar.monthrange(end.year, end.month)[1]
    if start.day == 1 and end.day == last and (start.year, start.month) == (end.year, end.month):
        return f"{start:%Y-%m}"
    if (start.month, start.day, end.month, end.day) == (1, 1, 12, 31) and start.year == end.year:
        return f"{start.year}"
    return f"{start.isoformat()}..{end.isoformat()}"


def label(*parts: object) -> str:
    return SEP.join(str(p) for p in parts if p not in (None, ""))


def _as_date(value: Any) -> object:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value
    return value


def period_of(params: Mapping[str, Any]) -> str:
    """The period a reconcile run covers, with the flow's defaults (the month of period_end, today)."""
    end = _as_date(params.get("period_end")) or datetime.now(UTC).date()
    start = _as_date(params.get("period_start"))
    if start is None and isinstance(end, date):
        start = end.replace(day=1)
    return period_label(start, end)


def flow_name(kind: str | Callable[[Mapping[str, Any]], str], *details: str) -> Callable[[], str]:
    """A flow_run_name callable: `kind · company name · detail…`; each detail is a parameter name, or
    `period` (period_start/period_end); `kind` may depend on the parameters."""
    return lambda: _name(flow_run.parameters, kind, details)


def task_name(kind: str | Callable[[Mapping[str, Any]], str], *details: str) -> Callable[[], str]:
    """The same for a task_run_name (the task's parameters: `company_id` or `company`)."""
    return lambda: _name(task_run.parameters, kind, details)


def _name(
    params: Mapping[str, Any], kind: str | Callable[[Mapping[str, Any]], str], details: tuple[str, ...]
) -> str:
    what = kind(params) if callable(kind) else kind
    company = params.get("company_id") or params.get("company")
    who = "all companies" if company in (None, "all") else company_name(company)
    shown: list[object] = [what, who if "company_id" in params or "company" in params else None]
    for detail in details:
        if detail == "period":
            shown.append(period_of(params))
        else:
            value = params.get(detail)
            shown.append(", ".join(map(str, value)) if isinstance(value, list | tuple) else value)
    return label(*shown)


__all__ = [
    "artifact_key",
    "company_name",
    "flow_name",
    "forget_names",
    "label",
    "period_label",
    "slug",
    "task_name",
]
