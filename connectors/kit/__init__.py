"""The provider kit: what every provider needs, written once (declarations, OAuth, tokens, HTTP, webhooks)."""
