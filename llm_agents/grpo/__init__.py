"""GRPO: critic-free, group-relative policy optimisation (``algorithm: grpo`` in the training runner).

The update reads top to bottom in ``trainer.py``, its pure maths in ``maths.py``; what it shares with PPO is
``llm_agents.policy_update``. ``GRPOConfig`` (``config.py``) loads without torch.
"""
