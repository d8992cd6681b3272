"""`python -m deepmath` is the `deepmath` command."""

import sys

from deepmath.cli import main

sys.exit(main())
