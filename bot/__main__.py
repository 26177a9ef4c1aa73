"""`python -m bot` is the same as `wirewatch`."""

from bot.cli import main

raise SystemExit(main())
