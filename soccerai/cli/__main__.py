"""``python -m soccerai.cli``: the same entry point as the ``soccerai`` command."""

from soccerai.cli.app import main

if __name__ == "__main__":
    main()
