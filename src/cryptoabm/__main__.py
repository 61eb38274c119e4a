"""``python -m cryptoabm`` is the same as the ``cryptoabm`` command."""

import sys

from cryptoabm.cli import main

sys.exit(main())
