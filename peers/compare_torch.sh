#!/usr/bin/env bash
# shapetape against PyTorch eager (one thread) in interleaved pairs: the bench's report, then the
# peer script with the time the report printed, PAIRS times. Prints every pair's ratio
# shapetape / PyTorch and their median. On a noisy VM (the project's moves by about ±20 % between
# runs of one binary) a single pair says little; the spread of the pairs is the honest figure.
#
# Usage: peers/compare_torch.sh transformer|conv [PAIRS]      (default 5 pairs)
#   PYTHON=/path/to/python   an interpreter with torch (default /tmp/torchvenv/bin/python)
# Not run by CI (it needs PyTorch).
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:?transformer or conv}
pairs=${2:-5}
python=${PYTHON:-/tmp/torchvenv/bin/python}
case $what in
  transformer) script=peers/torch_transformer.py ;;
  conv) script=peers/torch_conv.py ;;
  *) echo "unknown comparison: $what (transformer or conv)" >&2; exit 2 ;;
esac
cargo bench --bench "$what" --no-run -q
ratios=()
for i in $(seq "$pairs"); do
  us=$(REPORT_ONLY=1 cargo bench -q --bench "$what" 2>/dev/null | grep -o -- '--rust-us [0-9.]*' | awk '{print $2}')
  ratio=$("$python" "$script" --rust-us "$us" | grep 'shapetape / PyTorch' | awk '{print $4}')
  echo "pair $i: shapetape ${us} us, shapetape / PyTorch ${ratio}"
  ratios+=("$ratio")
done
printf '%s\n' "${ratios[@]}" | sort -g | awk '{a[NR]=$1} END {
  m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
  printf "%s: shapetape / PyTorch over %d pairs: %s to %s, median %.3f\n", "'"$what"'", NR, a[1], a[NR], m }'
