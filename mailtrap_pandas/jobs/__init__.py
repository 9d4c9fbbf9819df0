"""What talks to the account: imports (``imports/``), exports, events, the export snapshot,
plans, list sync, the local store (journal and events ledger), progress bars and streamed
sources. Built on ``frames`` and ``api``.
"""
