"""Every test process gets its own empty per-user cache, so no test reads what another run (or the developer) cached."""
from __future__ import annotations

import os
import tempfile

os.environ["COMPLIANCE_CACHE_DIR"] = tempfile.mkdtemp(prefix="compliance-test-cache-")
