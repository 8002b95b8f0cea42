"""cartelsim: an agent-based model of cartel fragmentation and violence under security budgets.

``from sim import CartelModel`` and run it headless; parameters are in :mod:`sim.params`.
"""

from importlib.metadata import PackageNotFoundError, version

from .model import CartelModel
from .params import ParamError, Params

try:
    __version__ = version("cartelsim")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

__all__ = ["CartelModel", "ParamError", "Params", "__version__"]
