"""``python -m segcore`` runs the command line."""

import sys

from segcore.cli import main

sys.exit(main())
