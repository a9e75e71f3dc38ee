"""`python -m engine ...`: the engine's command-line tool."""

import sys

from .cli.main import main

sys.exit(main())
