"""A local Stripe sandbox (ASGI): Stripe's v1 REST shapes, test cards, idempotency, signed webhooks, faults.

from sandbox.stripe import StripeSandboxOptions, create_app
app = create_app(StripeSandboxOptions(latency_ms=100))
"""

from sandbox.stripe.app import create_app
from sandbox.stripe.options import StripeSandboxOptions, ThrottleOptions, WebhookEndpointOptions
from sandbox.stripe.state import SandboxState
from sandbox.stripe.webhooks import sign

__all__ = [
    "SandboxState",
    "StripeSandboxOptions",
    "ThrottleOptions",
    "WebhookEndpointOptions",
    "create_app",
    "sign",
]
