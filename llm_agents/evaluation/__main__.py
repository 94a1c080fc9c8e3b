"""``python -m llm_agents.evaluation``: the ``evaluate`` subcommand on its own."""

import sys

from llm_agents.evaluation.cli import main

sys.exit(main())
