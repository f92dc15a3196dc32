"""``python -m trainers ...``: see :mod:`trainers.cli`."""

import sys

from trainers.cli import main

sys.exit(main())
