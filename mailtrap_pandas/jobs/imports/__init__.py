"""The bulk-import pipeline: validate -> dedupe -> encode -> submit under the budget -> poll ->
result."""
