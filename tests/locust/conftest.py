"""The Locust fleet's tests run real `ocppsim` and `locust` processes: the e2e harness."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))  # the e2e harness
