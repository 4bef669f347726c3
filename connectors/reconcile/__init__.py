"""Reconciliation of the app, QuickBooks Online and Stripe: loaders into pandas DataFrames (money as integer
cents), a pure classification and accuracy figures. No prefect here: flows/reconcile.py runs it."""
