"""``python -m mailtrap_pandas``: the same command line as ``mailtrap-pandas``."""

from mailtrap_pandas.cli import main

main()
