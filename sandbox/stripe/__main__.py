"""Run the Stripe sandbox alone: `python -m sandbox.stripe --port 8702 [--latency-ms 100]`."""

from __future__ import annotations

import argparse

import uvicorn

from sandbox.stripe.app import create_app
from sandbox.stripe.options import StripeSandboxOptions, WebhookEndpointOptions


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m sandbox.stripe", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8702)
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--error-rate", type=float, default=0.0)
    parser.add_argument("--drop-rate", type=float, default=0.0)
    parser.add_argument(
        "--webhook", action="append", default=[], metavar="URL[=SECRET]", help="register a webhook endpoint"
    )
    args = parser.parse_args(argv)
    endpoints = []
    for spec in args.webhook:
        url, _, secret = spec.partition("=")
        endpoints.append(WebhookEndpointOptions(url=url, secret=secret or None))
    options = StripeSandboxOptions(
        latency_ms=args.latency_ms,
        error_rate=args.error_rate,
        drop_rate=args.drop_rate,
        webhook_endpoints=endpoints,
    )
    uvicorn.run(create_app(options), host=args.host, port=args.port, log_level="info")


if __name__ == "__main__":
    main()
