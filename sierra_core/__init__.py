"""The bottom package: errors, settings, database engine and models, crypto, redaction, sync log, inbox.

Every layer may import it; it imports nothing of the project above it (only the migration scripts, as data).
"""
