"""JobNimbus API simulator: a deterministic synthetic roofing company served over loopback HTTP.

Used by the demo, the tests and the benchmarks; see ``company.py`` for the data model and clock,
``server.py`` for the HTTP contract and ``faults.py`` for fault injection.
"""

from .company import RESOURCES, Company, CompanyConfig
from .faults import FaultConfig
from .server import SandboxServer, start_sandbox

__all__ = ["RESOURCES", "Company", "CompanyConfig", "FaultConfig", "SandboxServer", "start_sandbox"]
