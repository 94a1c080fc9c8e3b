"""``python -m llm_agents``: the ``llm-agents`` command line."""

import sys

from llm_agents.cli import main

sys.exit(main())
