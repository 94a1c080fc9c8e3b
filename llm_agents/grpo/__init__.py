"""GRPO: critic-free, group-relative policy optimisation. ``maths`` holds its pure tensor maths (the runner's
``algorithm: grpo`` is not built yet)."""
