"""QuickBooks Online: OAuth, tokens, the API client and app <-> QBO mappings. Never imports prefect."""
