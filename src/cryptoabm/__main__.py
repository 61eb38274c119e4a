"""``python -m cryptoabm`` is the same as the ``cryptoabm`` command."""

from cryptoabm.cli import entry_point

entry_point()
