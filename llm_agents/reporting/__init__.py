"""Reports across runs: aggregate training runs and evaluations (seeds) into the paper's figures and tables."""
