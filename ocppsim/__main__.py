"""`python -m ocppsim`"""

import sys

from ocppsim.cli import main

sys.exit(main())
