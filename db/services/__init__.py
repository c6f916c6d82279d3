"""Services: keyword-only functions taking `session` (never committing) and, for writes, `actor`."""
