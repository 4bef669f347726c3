"""Xero on the provider kit: its declaration, its Accounting API client, mappings and webhooks."""
