#!/usr/bin/env bash
# The GPU check: the CUDA tests (skipped without a GPU), then cpu-vs-cuda timings of k-centers,
# scoring, a TorchClassifier fit and Lab 4's ResNet path. Under 5 minutes on one GPU.
# PYTHON selects the interpreter (default: the kit's .venv, else python3).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || command -v python3 )}"
"$PYTHON" -c "import torch; print('torch', torch.__version__, '| cuda available:', torch.cuda.is_available())"
"$PYTHON" -m pytest -q -p no:cacheprovider -k "cuda" tests/test_diversity.py tests/test_models.py -rs
"$PYTHON" benchmarks/gpu_check.py
