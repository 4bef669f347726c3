"""Sync between the app database and QuickBooks: what to push, pushing it in batches, pulling changes.
Plain functions over a Session factory and a QuickBooksClient; never imports prefect."""
