"""`python -m bot` is the same as `wirewatch`."""

from bot.cli import main

if __name__ == "__main__":  # parse workers are spawned processes: they import this module too
    raise SystemExit(main())
