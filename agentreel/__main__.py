"""``python -m agentreel`` is the ``agentreel`` command."""

from agentreel.cli import main

raise SystemExit(main())
