"""``python -m bot``: kept for habit and for the docs' examples; the entry point is :mod:`genrebot.cli`."""

import sys

from genrebot.cli import main

sys.exit(main())
