"""Clients, mappings and stores for QuickBooks, Stripe and the app database. Never imports prefect."""
