"""``python -m interp.audit``: see :mod:`interp.audit.cli`."""

import sys

from interp.audit.cli import main

sys.exit(main())
