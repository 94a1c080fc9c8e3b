"""Bridges to other training libraries (optional extras): ``trl`` runs TRL's ``GRPOTrainer`` on our environments."""
