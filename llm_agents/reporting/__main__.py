"""``python -m llm_agents.reporting``: the ``report`` subcommand on its own."""

import sys

from llm_agents.reporting.cli import main

sys.exit(main())
