"""A 20-line tour of the Gymnasium view: one learner (player_0) against a baseline strategy, with a moral reward."""

import gymnasium

import matrix_games  # noqa: F401 - registers "matrix_games/IPD-v0" and the other games

env = gymnasium.make("matrix_games/IPD-v0", opponent="tit_for_tat", reward="deontological", num_rounds=5)
observation, info = env.reset(seed=0)
print(observation["text"])  # the paper's prompt, from the learner's point of view
print("numeric observation (own previous, opponent previous; C=0, D=1):", observation["numeric"])

for action in [1, 1, 0, 0, 1]:  # 0 = C ("action1"), 1 = D ("action2")
    observation, reward, terminated, truncated, info = env.step(action)
    print(
        f"round {info['round']}: I played {'CD'[info['action']]}, they played {'CD'[info['opponent_action']]}; "
        f"game payoff {info['game_reward']:+.0f}, deontological reward {reward:+.0f}"
    )
print("episode over:", terminated or truncated)

text_env = gymnasium.make("matrix_games/StagHunt-v0", opponent="always_cooperate", observation_type="text")
print(text_env.reset(seed=1)[0].splitlines()[0])
