"""soccerai: soccer tracking data -> canonical polars tables -> player graphs -> trajectory models -> OBSO / C-OBSO."""

from soccerai.errors import SoccerAIError

__all__ = ["SoccerAIError", "__version__"]
__version__ = "0.1.0"
