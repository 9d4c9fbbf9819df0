"""``python -m mailtrap_pandas``: the same command line as ``mailtrap-pandas``."""

from .cli import main

main()
