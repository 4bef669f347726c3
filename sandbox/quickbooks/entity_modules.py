"""Imports the modules that register entity types and resources beyond the core ones app.py names.

One import in app.py keeps the list here; each module registers itself (`register`, `register_resource`).
"""

from __future__ import annotations

from sandbox.quickbooks import (  # noqa: F401  (imported for their registrations)
    attachments,
    banking,
    billpayments,
    exchange,
    payables,
    preferences,
    recurring,
    taxes,
    timeactivity,
)

__all__: list[str] = []
