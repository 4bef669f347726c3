"""Pieces shared by the QuickBooks and Stripe sandboxes."""
