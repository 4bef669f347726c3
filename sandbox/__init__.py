"""Local sandboxes (ASGI) that speak the QuickBooks Online and Stripe HTTP APIs. Import nothing of the project."""
