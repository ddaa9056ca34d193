"""The domain: plain functions that take ids, own their transaction, raise DomainError."""
