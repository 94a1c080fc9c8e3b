"""TRL's ``GRPOTrainer`` fine-tunes the embedded model on our Iterated Prisoner's Dilemma, offline, on a CPU.

The dataset is ``--states`` game states (the paper's prompt for each, ``llm_agents.integrations.trl.state_dataset``)
and the reward function plays each sampled answer in its state against ``--opponent`` under ``--reward``
(``GameReward``), so TRL trains the round-level policy our PPO does, with TRL's GRPO: ``--generations`` answers per
state are a group, LoRA on the model's linear layers, a fixed ``--beta``. With ``--rollout episode`` TRL's
``rollout_func`` plays the episode on from each answer (``--rounds`` rounds, the model answering each) and the
answer's reward is the episode's return (``EpisodeRollout``, ``EpisodeReturn``). It prints one line per step as the
step ends (TRL's log of it: mean reward, its spread, the seconds so far) and, before and after, the greedy answer's
reward over the states (one round each). Third-party logs and warnings are turned down unless ``--verbose``.

Run: ``python examples/trl_grpo.py [--max-steps 10] [--reward utilitarian] [--model smollm2-135m-instruct]`` (the
``trl`` extra; about 36 s a step on our 2-core machine in float32 with another job on the other core, so the default
10 steps take about 6 minutes; docs/training.md has a 20-step run).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m-instruct", help="our model name or a local folder")
    parser.add_argument("--reward", default="utilitarian", help="a reward name [utilitarian]")
    parser.add_argument("--opponent", default="tit_for_tat", help="a strategy name [tit_for_tat]")
    parser.add_argument("--max-steps", type=int, default=10, help="GRPO steps [10]")
    parser.add_argument("--states", type=int, default=64, help="game states in the dataset [64]")
    parser.add_argument("--generations", type=int, default=4, help="answers sampled per state (a group) [4]")
    parser.add_argument("--learning-rate", type=float, default=5e-4)
    parser.add_argument("--beta", type=float, default=0.05, help="KL coefficient [0.05]")
    parser.add_argument("--rollout", choices=["round", "episode"], default="round", help="what an answer is scored by")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of an episode with --rollout episode [5]")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", action="store_true", help="show the libraries' logs, warnings and progress bars")
    args = parser.parse_args()  # checked before torch loads

    from llm_agents.console import quiet_libraries

    with quiet_libraries(not args.verbose):
        run(args)


def run(args: argparse.Namespace) -> None:
    import torch
    from peft import LoraConfig
    from trl import GRPOConfig, GRPOTrainer

    from llm_agents.agent.config import ModelConfig
    from llm_agents.agent.models import load_model
    from llm_agents.integrations.trl import EpisodeReturn, EpisodeRollout, GameReward, answer_length, state_dataset

    torch.manual_seed(args.seed)
    model, tokenizer = load_model(ModelConfig(name=args.model, device="cpu", dtype="float32"))
    dataset = state_dataset(opponent=args.opponent, num_states=args.states, seed=args.seed)
    reward = GameReward(opponent=args.opponent, reward=args.reward)
    rollout = None
    if args.rollout == "episode":
        rollout = EpisodeRollout(dataset, opponent=args.opponent, reward=args.reward, rounds=args.rounds)
    config = GRPOConfig(
        output_dir=tempfile.mkdtemp(prefix="trl_grpo_"),
        use_cpu=True,
        bf16=False,
        per_device_train_batch_size=2 * args.generations,
        num_generations=args.generations,
        max_completion_length=answer_length(tokenizer),
        max_steps=args.max_steps,
        learning_rate=args.learning_rate,
        beta=args.beta,
        temperature=1.0,
        logging_steps=1,
        save_strategy="no",
        report_to="none",
        seed=args.seed,
        disable_tqdm=True,
    )
    lora = LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0, target_modules="all-linear", task_type="CAUSAL_LM")
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=[reward if rollout is None else EpisodeReturn()],
        args=config,
        rollout_func=rollout,
        train_dataset=dataset,
        processing_class=tokenizer,
        peft_config=lora,
    )
    from transformers import PrinterCallback

    trainer.remove_callback(PrinterCallback)  # TRL's dict per step; StepLines prints what matters, as it comes
    print(f"greedy reward before: {greedy_reward(trainer, dataset, reward):+.2f}", flush=True)
    started = time.perf_counter()
    trainer.add_callback(step_lines(started))
    trainer.train()
    seconds = time.perf_counter() - started
    print(f"greedy reward after: {greedy_reward(trainer, dataset, reward):+.2f}")
    print(f"{args.max_steps} steps in {seconds:.0f} s")


def step_lines(started: float):
    """A TRL callback that prints one line per logged step (``logging_steps=1``: every step) as it ends."""
    from transformers import TrainerCallback

    class StepLines(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and "reward" in logs:
                print(
                    f"step {state.global_step:>3}/{state.max_steps}: reward {logs['reward']:+.2f} "
                    f"(std {logs.get('reward_std', 0.0):.2f}), {time.perf_counter() - started:.0f} s",
                    flush=True,
                )

    return StepLines()


def greedy_reward(trainer, dataset, reward, count: int = 16) -> float:
    """The mean reward of the model's greedy answer over the first ``count`` states."""
    import torch

    from llm_agents.integrations.trl import answer_length

    tokenizer, model = trainer.processing_class, trainer.model
    total = 0.0
    for row in dataset.select(range(min(count, len(dataset)))):
        ids = tokenizer.apply_chat_template(row["prompt"], add_generation_prompt=True, return_tensors="pt")
        ids = ids if isinstance(ids, torch.Tensor) else ids["input_ids"]
        with torch.no_grad():
            output = model.generate(
                ids, max_new_tokens=answer_length(tokenizer), do_sample=False, pad_token_id=tokenizer.pad_token_id
            )
        text = tokenizer.decode(output[0, ids.shape[1] :], skip_special_tokens=True)
        total += reward(prompts=[row["prompt"]], completions=[text], env_seed=[row["env_seed"]])[0]
    return total / min(count, len(dataset))


if __name__ == "__main__":
    main()
