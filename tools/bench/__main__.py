"""``python -m tools.bench``: see ``--help``."""
import sys

from .runner import main

sys.exit(main())
