"""Incremental sync: an import that sends only the rows the account does not hold yet."""
