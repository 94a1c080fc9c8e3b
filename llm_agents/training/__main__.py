"""``python -m llm_agents.training``: the ``llm-agents train`` subcommand on its own."""

import sys

from llm_agents.training.cli import main

sys.exit(main())
