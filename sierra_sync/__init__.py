"""sierra-sync: the integrations module of Sierra Suites (QuickBooks Online and Stripe, on Prefect 3)."""

__version__ = "0.1.0"
