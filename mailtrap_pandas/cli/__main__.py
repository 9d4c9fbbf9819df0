"""``python -m mailtrap_pandas.cli``: the same command line as ``mailtrap-pandas``."""

from mailtrap_pandas.cli.app import main

main()
