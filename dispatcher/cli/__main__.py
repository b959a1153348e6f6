"""``python -m dispatcher.cli``: the same entry point as the ``dispatcher`` command."""

from dispatcher.cli import main

if __name__ == "__main__":
    main()
