"""What talks to the account: imports (``imports/``), exports, events, hygiene plans, the local
store (journal and events ledger), progress bars and streamed sources. Built on ``frames``
and ``api``.
"""
