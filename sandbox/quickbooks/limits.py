"""Intuit's throttling limits: the kit's, plus the shape of the 429 (Intuit often answers it in XML)."""

from __future__ import annotations

from dataclasses import dataclass

from sandbox.kit.throttle import Limits

__all__ = ["QboLimits"]


@dataclass(frozen=True)
class QboLimits(Limits):
    """The limits of one realm (0 disables a limit); `throttle_xml`: 429 bodies in XML."""

    throttle_xml: bool = True
