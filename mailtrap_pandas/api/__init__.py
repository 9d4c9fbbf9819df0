"""The wire: credentials and the one request path (``client``), the one rate budget (``ratelimit``),
the one wait/retry policy (``retry``) and one module per remote resource (``resources/``).

Nothing here builds a frame; nothing in ``frames`` imports from here.
"""
