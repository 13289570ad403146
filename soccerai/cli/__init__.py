"""The ``soccerai`` command line (:mod:`soccerai.cli.app`), its commands (:mod:`soccerai.cli.commands`) and the demo run
(:mod:`soccerai.cli.demo`). The faces of the library: they call it and never re-implement a step."""

from soccerai.cli.app import main

__all__ = ["main"]
