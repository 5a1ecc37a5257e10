"""``python -m skrelrep``: the command line (see ``skrelrep --help``)."""

from .cli import main

raise SystemExit(main())
