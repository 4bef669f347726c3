"""Local sandboxes (ASGI) that speak the QuickBooks Online and Stripe HTTP APIs.

They import nothing of the project."""
