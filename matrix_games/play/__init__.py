"""Strategies playing each other without an environment: seeded matches (``matches.py``), round-robin tournaments
(``tournament.py``), and the exact expected results of players given as move probabilities, by Markov chain
(``markov.py``).
"""
