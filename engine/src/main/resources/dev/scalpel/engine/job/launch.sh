#!/usr/bin/env bash
# Runs this Scalpel job on one machine: NPROC processes (default: one per GPU, or 2 on a CPU-only machine).
#   ./launch.sh                 # torchrun --standalone --nproc_per_node NPROC run.py
#   NPROC=8 ./launch.sh --model /models/llama-3-8b
# The same with accelerate:  accelerate launch --num_processes NPROC run.py [--model ...]
# On Slurm:                  sbatch slurm.sbatch
set -euo pipefail
cd "$(dirname "$0")"
if [[ -z "${NPROC:-}" ]]; then
  NPROC=$(python3 -c 'import torch; print(torch.cuda.device_count() or 2)')
fi
exec torchrun --standalone --nproc_per_node "$NPROC" run.py "$@"
