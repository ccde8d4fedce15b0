#!/usr/bin/env bash
# The sample as a NativeAOT binary against the JIT build (docs/benchmarks.md, "Native binary vs JIT"): file sizes,
# start-up (`--help`, median of 5 runs), a whole `predict` run (median of 5) and, inside it, the first one-image
# prediction and the median of 1,000 more (`predict --timing`).
#   benchmarks/native.sh [OUT]     OUT: where to publish and train (default: a temporary folder)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -ge 1 ]; then work="$1"; mkdir -p "$work"; else work=$(mktemp -d); trap 'rm -rf "$work"' EXIT; fi

[ -x "$work/bin/LeNet5" ] || dotnet publish samples/LeNet5 -c Release -r linux-x64 -p:PublishAot=true -o "$work/bin" -nologo -v:q
dotnet build samples/LeNet5/LeNet5.csproj -c Release -nologo -v:q >/dev/null
native=("$work/bin/LeNet5")
jit=(dotnet samples/LeNet5/bin/Release/net10.0/LeNet5.dll)
[ -f "$work/model/model.mgm" ] || "${native[@]}" train --limit 3000 --epochs 1 --seed 7 --device cpu --out "$work/model" >/dev/null

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
wall() { # median wall seconds of 5 runs of the command
  for _ in 1 2 3 4 5; do
    local start end; start=$(date +%s.%N); "$@" >/dev/null; end=$(date +%s.%N)
    echo "$end - $start" | bc
  done | median
}

echo "native binary: $(stat -c %s "$work/bin/LeNet5") bytes; whole folder without .dbg: $(find "$work/bin" -type f ! -name '*.dbg' -printf '%s\n' | awk '{ s += $1 } END { print s }') bytes"
echo "JIT build folder (samples/LeNet5/bin/Release/net10.0, without pdb/xml): $(find samples/LeNet5/bin/Release/net10.0 -maxdepth 1 -type f ! -name '*.pdb' ! -name '*.xml' -printf '%s\n' | awk '{ s += $1 } END { print s }') bytes (plus the shared .NET runtime)"
for build in native jit; do
  declare -n cmd=$build
  echo "$build: --help $(wall "${cmd[@]}" --help) s; predict $(wall "${cmd[@]}" predict --model "$work/model" --index 17 --no-color) s"
  "${cmd[@]}" predict --model "$work/model" --index 17 --no-color --timing | grep '^Predict time'
done
