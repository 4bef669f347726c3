"""The app database: engine, column types, models and stores. Never imports prefect."""
