#!/usr/bin/env bash
# Compile time of one generated chain graph (targets 6 and 7 of the performance issue).
#
# Writes a throwaway crate to target/compile-time/chain (path dependency on this repo), holding
# one GraphData chain of N Vector<4> nodes written as a user would with the typed builder
# (`b.push(|c| ops::mul(c.idx(v), c.idx(a)))`, cycling mul, add, tanh, add), with `eval` and
# `backprop_ctx` instantiated. The dependencies are built once; then, per N, the crate is
# touched and rebuilt (debug, CARGO_INCREMENTAL=0) and only that rebuild is timed.
#
# Every N is first built WITHOUT `#![recursion_limit]`; if that fails, the first error is
# printed and the build is retried with recursion_limit 256, 512, 1024, 2048.
#
# Usage: scripts/compile_time.sh [N ...]          (default: 64 128 256)
#   REPEATS=k   time k touch+rebuilds per N and report the fastest (default 1)
#   PROFILE=release   time release builds instead of debug
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$repo/target/compile-time"
crate="$work/chain"
export CARGO_TARGET_DIR="$work/target"
export CARGO_INCREMENTAL=0
repeats="${REPEATS:-1}"
profile="${PROFILE:-dev}"
sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(64 128 256)

mkdir -p "$crate/src"
cat > "$crate/Cargo.toml" <<TOML
[package]
name = "chain_compile_time"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
shapetape = { path = "$repo" }

[workspace]
TOML

# gen N LIMIT: the program for a chain of N nodes (LIMIT empty: no recursion_limit attribute).
gen() {
    local n=$1 limit=$2 k prev op
    [ -n "$limit" ] && echo "#![recursion_limit = \"$limit\"]"
    cat <<'RS'
use shapetape::autograd::GraphData;
use shapetape::ops;
use shapetape::prelude::*;

type G = HList![Vector<4>, Vector<4>];

fn main() {
    let (g, out) = GraphData::<f32, (), G, _>::build_with(|b| {
        let hlist_pat![a, v0] = b.inputs();
RS
    for ((k = 1; k <= n; k++)); do
        prev="v$((k - 1))"
        case $(((k - 1) % 4)) in
            0) op="ops::mul(c.idx($prev), c.idx(a))" ;;
            1 | 3) op="ops::add(c.idx($prev), c.idx(a))" ;;
            2) op="ops::tanh(c.idx($prev))" ;;
        esac
        echo "        let (b, v$k) = b.push(|c| $op);"
    done
    cat <<RS
        let out = b.idx(v$n);
        (b, out)
    });
    let x: TList<f32, G> = tlist![
        Tensor::new([0.9, -0.5, 0.3, 1.1]),
        Tensor::new([0.2, 0.4, -0.7, 0.05])
    ];
    let ctx = g.eval(x.clone(), &());
    let seed = TList::single(out, Tensor::new([1.0; 4]));
    let grad = g.backprop_ctx(x, &(), seed);
    println!("{:?} {:?}", ctx.get(out).as_slice(), grad.slot_slices().collect::<Vec<_>>());
}
RS
}

build() { cargo build --quiet --profile "$profile" --manifest-path "$crate/Cargo.toml" "$@"; }

echo "rustc: $(rustc --version); profile: $profile; CARGO_INCREMENTAL=0; nproc: $(nproc)"
echo "building the dependencies once (N = 4) ..."
gen 4 "" > "$crate/src/main.rs"
build

declare -A wall cpu need
TIMEFORMAT='%R %U %S'
for n in "${sizes[@]}"; do
    ok=""
    for limit in "" 256 512 1024 2048; do
        gen "$n" "$limit" > "$crate/src/main.rs"
        if build 2> "$work/err-$n.txt"; then
            ok=1
            break
        fi
        echo "N = $n, recursion_limit ${limit:-default (128)}: build FAILED; first error:"
        grep -m1 -E '^error' "$work/err-$n.txt" | cut -c1-400 || true
        grep -m1 -E 'recursion_limit|panicked' "$work/err-$n.txt" | cut -c1-300 || true
    done
    need[$n]="${limit:-not needed}"
    if [ -z "$ok" ]; then
        wall[$n]=failed
        cpu[$n]=failed
        continue
    fi
    best_w=""
    best_c=""
    for ((r = 0; r < repeats; r++)); do
        touch "$crate/src/main.rs"
        read -r w u s < <({ time build; } 2>&1 >/dev/null | tail -1)
        c=$(echo "$u + $s" | bc -l)
        if [ -z "$best_w" ] || (($(echo "$w < $best_w" | bc -l))); then best_w=$w; fi
        if [ -z "$best_c" ] || (($(echo "$c < $best_c" | bc -l))); then best_c=$c; fi
    done
    wall[$n]=$(printf "%.2f" "$best_w")
    cpu[$n]=$(printf "%.2f" "$best_c")
    echo "N = $n: recursion_limit ${need[$n]}; wall ${wall[$n]} s, CPU (user+sys) ${cpu[$n]} s (load: $(cut -d' ' -f1-3 /proc/loadavg))"
done

echo
echo "| N | recursion_limit needed | wall (s) | CPU user+sys (s) |"
echo "|---|---|---|---|"
for n in "${sizes[@]}"; do
    echo "| $n | ${need[$n]} | ${wall[$n]} | ${cpu[$n]} |"
done
if [ -n "${wall[128]:-}" ] && [ -n "${wall[256]:-}" ] && [ "${wall[128]}" != failed ] && [ "${wall[256]}" != failed ]; then
    echo "t(256)/t(128): wall $(echo "${wall[256]} / ${wall[128]}" | bc -l | cut -c1-5), CPU $(echo "${cpu[256]} / ${cpu[128]}" | bc -l | cut -c1-5)"
fi
