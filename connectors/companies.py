"""Find a company by id or exact name (what `--company` and the flows' `company` parameter accept)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from sierra_core.db.models import Company
from sierra_core.errors import NotFoundError


def resolve_company(session: Session, value: str) -> Company:
    """A company by id or by exact name, or one line naming a few that exist."""
    company: Company | None = None
    try:
        company = session.get(Company, uuid.UUID(str(value)))
    except ValueError:
        company = session.scalar(select(Company).where(Company.name == value, Company.deleted_at.is_(None)))
    if company is None:
        known = session.scalars(select(Company.name).order_by(Company.name).limit(5)).all()
        hint = (
            f" (companies here include: {', '.join(known)})"
            if known
            else " (none yet: run `sierra-sync db seed`)"
        )
        raise NotFoundError(f"no company with id or exact name {value!r}{hint}")
    return company
