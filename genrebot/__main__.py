"""``python -m genrebot``: the same as the ``genrebot`` command."""

import sys

from genrebot.cli import main

sys.exit(main())
