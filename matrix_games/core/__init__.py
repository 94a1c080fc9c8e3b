"""The pure core: actions and labels, the stage games, one round as a function, the round record and its codec, the
checks every input goes through, and seeded random streams. No environment, no text, no strategy: everything else
in the package is built on these modules.
"""
