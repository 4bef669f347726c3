"""Stripe's test payment methods (`pm_card_visa`, `pm_card_chargeDeclined`, …) and what each one does."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TestCard:
    """A test card: its look (brand, last4, funding) and its outcome when charged."""

    brand: str
    last4: str
    funding: str = "credit"
    country: str = "US"
    outcome: str = "succeed"  # succeed | decline | authenticate | dispute
    code: str | None = None  # error code on a decline (card_declined, expired_card, …)
    decline_code: str | None = None
    message: str | None = None
    param: str | None = None


_DECLINED = "Your card was declined."

TEST_CARDS: dict[str, TestCard] = {
    "pm_card_visa": TestCard("visa", "4242"),
    "pm_card_visa_debit": TestCard("visa", "5556", funding="debit"),
    "pm_card_mastercard": TestCard("mastercard", "4444"),
    "pm_card_amex": TestCard("amex", "8431"),
    "pm_card_chargeDeclined": TestCard(
        "visa",
        "0002",
        outcome="decline",
        code="card_declined",
        decline_code="generic_decline",
        message=_DECLINED,
    ),
    "pm_card_chargeDeclinedInsufficientFunds": TestCard(
        "visa",
        "9995",
        outcome="decline",
        code="card_declined",
        decline_code="insufficient_funds",
        message="Your card has insufficient funds.",
    ),
    "pm_card_chargeDeclinedLostCard": TestCard(
        "visa", "9987", outcome="decline", code="card_declined", decline_code="lost_card", message=_DECLINED
    ),
    "pm_card_chargeDeclinedExpiredCard": TestCard(
        "visa",
        "0069",
        outcome="decline",
        code="expired_card",
        decline_code="expired_card",
        message="Your card has expired.",
        param="exp_month",
    ),
    "pm_card_chargeDeclinedIncorrectCvc": TestCard(
        "visa",
        "0127",
        outcome="decline",
        code="incorrect_cvc",
        decline_code="incorrect_cvc",
        message="Your card's security code is incorrect.",
        param="cvc",
    ),
    "pm_card_chargeDeclinedProcessingError": TestCard(
        "visa",
        "0119",
        outcome="decline",
        code="processing_error",
        decline_code="processing_error",
        message="An error occurred while processing your card. Try again in a little bit.",
    ),
    "pm_card_authenticationRequired": TestCard("visa", "3184", outcome="authenticate"),
    "pm_card_createDispute": TestCard("visa", "0259", outcome="dispute"),
}

# Stripe's test card numbers, by the test payment method that behaves the same.
TEST_NUMBERS: dict[str, str] = {
    "4242424242424242": "pm_card_visa",
    "4000056655665556": "pm_card_visa_debit",
    "5555555555554444": "pm_card_mastercard",
    "378282246310005": "pm_card_amex",
    "4000000000000002": "pm_card_chargeDeclined",
    "4000000000009995": "pm_card_chargeDeclinedInsufficientFunds",
    "4000000000009987": "pm_card_chargeDeclinedLostCard",
    "4000000000000069": "pm_card_chargeDeclinedExpiredCard",
    "4000000000000127": "pm_card_chargeDeclinedIncorrectCvc",
    "4000000000000119": "pm_card_chargeDeclinedProcessingError",
    "4000002760003184": "pm_card_authenticationRequired",
    "4000000000000259": "pm_card_createDispute",
}


def test_card_for_token(token: str) -> str | None:
    """`tok_visa` -> `pm_card_visa` (Stripe's test tokens mirror its test payment methods)."""
    name = "pm_card_" + token.removeprefix("tok_")
    return name if token.startswith("tok_") and name in TEST_CARDS else None
