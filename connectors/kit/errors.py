"""The error base every provider's API errors share: what failed, whether retrying the same request may
help, and how long the provider asked us to wait.

Each provider subclasses `ProviderError` once (QuickBooksError, StripeApiError, ...) and groups its errors by
what the caller does next (retry the same request, refresh the token, re-read, fix the data). Messages pass
through `redact_text`: no token, key or secret ever reaches one.
"""

from __future__ import annotations

from sierra_core.errors import SierraError
from sierra_core.redact import redact_text

__all__ = ["ProviderError"]


class ProviderError(SierraError):
    """A failed call to a provider's API.

    Attributes: `code` (the provider's error code), `status` (HTTP status, 0 when no answer arrived),
    `request_id` (the idempotency key or request id sent, if any), `retry_after` (seconds the provider asked
    us to wait, None when it did not say). `retryable` (class or instance) says whether the same request,
    with the same idempotency key, may be sent again.
    """

    retryable = False

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int = 0,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(redact_text(message), code=code)
        self.status = status
        self.request_id = request_id
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, status={self.status}, message={self.message!r})"
