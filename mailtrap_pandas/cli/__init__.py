"""``mailtrap-pandas``: the command line, a thin shell over the library.

Exit codes: 0 success, 1 error (one line; a traceback only with ``--debug``),
2 usage, 3 when some rows were rejected.

One module per group of commands: ``contacts`` (validate, import, export, plan), ``sync``
(sync, sync-list), ``removal`` (delete, unsubscribe, resubscribe), ``events``, ``lists``
(accounts, fields, lists); ``app`` holds the group; ``options`` and ``output`` what they share.
"""

from mailtrap_pandas.cli.app import cli, main

__all__ = ["cli", "main"]
