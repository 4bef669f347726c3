"""Prefect Block classes for credentials and settings, and the names sierra-sync saves them under."""

from blocks.encryption import TokenEncryptionKeys
from blocks.loader import QBO_APP_BLOCK, TOKEN_KEYS_BLOCK
from blocks.quickbooks import QuickBooksAppCredentials
from blocks.stripe import StripeConnectCredentials
from blocks.xero import XERO_APP_BLOCK, XeroAppCredentials

ALL_BLOCKS: list[type] = [
    QuickBooksAppCredentials,
    StripeConnectCredentials,
    XeroAppCredentials,
    TokenEncryptionKeys,
]

__all__ = [
    "ALL_BLOCKS",
    "QBO_APP_BLOCK",
    "TOKEN_KEYS_BLOCK",
    "XERO_APP_BLOCK",
    "QuickBooksAppCredentials",
    "StripeConnectCredentials",
    "TokenEncryptionKeys",
    "XeroAppCredentials",
]
