"""``RewardSchedule``: the reward by episode, switched at fixed episode counts (the paper's unlearning runs)."""

from __future__ import annotations

from dataclasses import dataclass

from matrix_games.rewards.registry import check_reward_name


@dataclass(frozen=True)
class RewardSchedule:
    """Rewards by episode: ``phases[i] = (reward_name, number_of_episodes)``; the last count may be None (forever).

    Example:
        >>> schedule = RewardSchedule.parse("game:500,deontological:500")
        >>> schedule.reward_name(499), schedule.reward_name(500), schedule.reward_name(10_000)
        ('game', 'deontological', 'deontological')
    """

    phases: tuple[tuple[str, int | None], ...]

    def __post_init__(self) -> None:
        phases = tuple((name, count) for name, count in self.phases)
        if not phases:
            raise ValueError("A RewardSchedule needs at least one phase, e.g. RewardSchedule.parse('game:500').")
        for index, (name, count) in enumerate(phases):
            check_reward_name(name)
            last = index == len(phases) - 1
            if count is None and not last:
                raise ValueError(
                    f"Only the last phase of a reward schedule may run forever; phase {index} ({name!r}) has no "
                    "episode count. Write e.g. 'game:500,deontological'."
                )
            if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
                raise ValueError(
                    f"Phase {index} ({name!r}) of a reward schedule has episode count {count!r}; "
                    "expected a positive integer, e.g. 'game:500'."
                )
        object.__setattr__(self, "phases", phases)

    @classmethod
    def parse(cls, text: str) -> RewardSchedule:
        """Read ``"name:episodes,name:episodes,..."``; the last phase may omit ``:episodes`` (it then never ends)."""
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"Cannot read reward schedule {text!r}: expected e.g. 'game:500,deontological:500'.")
        phases: list[tuple[str, int | None]] = []
        for part in text.split(","):
            name, _, count = part.strip().partition(":")
            if not count.strip():
                phases.append((name.strip(), None))
                continue
            try:
                phases.append((name.strip(), int(count)))
            except ValueError:
                raise ValueError(
                    f"Cannot read {part.strip()!r} in reward schedule {text!r}: the episode count must be an "
                    "integer, e.g. 'game:500,deontological:500'."
                ) from None
        return cls(tuple(phases))

    def switch_episodes(self, episodes: int | None = None) -> tuple[int, ...]:
        """The episodes at which the reward changes (before ``episodes``, if given).

        Example:
            >>> RewardSchedule.parse("game:10,deontological:10").switch_episodes()
            (10,)
        """
        switches, start = [], 0
        for _, count in self.phases[:-1]:
            start += count  # type: ignore[operator]
            if episodes is None or start < episodes:
                switches.append(start)
        return tuple(switches)

    @property
    def total_episodes(self) -> int | None:
        """The episodes the phases cover, or None when the last phase runs forever."""
        counts = [count for _, count in self.phases]
        return None if None in counts else sum(counts)  # type: ignore[arg-type]

    def reward_name(self, episode: int) -> str:
        """The reward used in episode ``episode`` (0-based)."""
        start = 0
        for name, count in self.phases:
            if count is None or episode < start + count:
                return name
            start += count
        return self.phases[-1][0]

    def __str__(self) -> str:
        return ",".join(name if count is None else f"{name}:{count}" for name, count in self.phases)


def as_schedule(reward: str | RewardSchedule) -> RewardSchedule:
    """A schedule from a reward name (``"deontological"``), a schedule string, or a schedule."""
    if isinstance(reward, RewardSchedule):
        return reward
    if isinstance(reward, str) and ":" not in reward and "," not in reward:
        return RewardSchedule(((check_reward_name(reward), None),))
    return RewardSchedule.parse(reward)  # type: ignore[arg-type]
