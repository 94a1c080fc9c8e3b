# The reproduction's models (sourced by one_model.sh and transfer.sh; configs/grids/reproduce_cpu.yaml has the same
# rewards, tests/test_reproduce_scripts.py keeps them equal).
# MODELS: name and training reward (or schedule) of each fine-tuned configuration of the paper's Fig. 4;
# "no fine-tuning" is the base model, evaluated without training.
MODELS=(
  "game game"
  "deontological deontological"
  "utilitarian utilitarian"
  "game_deontological game_deontological"
  "game_then_deontological game:30,deontological:30"
  "game_then_utilitarian game:30,utilitarian:30"
)

# how every model is loaded for testing: the embedded SmolLM2 on the CPU, in the dtype training chose (auto)
TEST_MODEL_FLAGS=(--model smollm2-135m-instruct --device cpu --dtype auto)

# model_label NAME: the model's name in reports, the paper's Fig. 4 column as `llm-agents report` names training runs
model_label() {
  case "$1" in
    no_fine_tuning) echo "No fine-tuning" ;;
    game) echo "Game payoffs (vs tit_for_tat)" ;;
    deontological) echo "Deontological (vs tit_for_tat)" ;;
    utilitarian) echo "Utilitarian (vs tit_for_tat)" ;;
    game_deontological) echo "Game + Deontological (vs tit_for_tat)" ;;
    game_then_deontological) echo "Game payoffs, then Deontological (vs tit_for_tat)" ;;
    game_then_utilitarian) echo "Game payoffs, then Utilitarian (vs tit_for_tat)" ;;
    *) echo "unknown model name $1" >&2; return 2 ;;
  esac
}
