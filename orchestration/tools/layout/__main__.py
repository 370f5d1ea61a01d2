"""``python -m orchestration.tools.layout FILE...``, the same as ``fangtiao layout FILE...``."""

from orchestration.tools.layout.command import main

raise SystemExit(main())
