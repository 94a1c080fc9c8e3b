"""The environments: their settings (``settings.py``), what a player observes (``observations.py``) and the infos
(``infos.py``), the PettingZoo parallel env (``parallel_env.py``), the Gymnasium single-agent view against
strategies (``single_agent_env.py``), the moral reward wrappers (``wrappers.py``) and the registered ids
(``registration.py``).
"""
