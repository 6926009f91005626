#!/usr/bin/env bash
# Compile time of one generated chain graph (targets 6 and 7 of the performance issue), as an
# executable GraphData and as its certified RevGraph twin, then of the 49-node network of the
# redesign issue in both kinds (time, peak rustc memory, binary size).
#
# Writes a throwaway crate to target/compile-time/chain (path dependency on this repo), holding
# one chain of N Vector<4> nodes written as a user would with the typed builder
# (`b.push(|c| ops::mul(c.idx(v), c.idx(a)))`, cycling mul, add, tanh, add): a
# `GraphData<f32, ..>` with `eval` and `backprop_ctx` instantiated (KIND=data), or the same
# builder code as a `RevGraph<f32, f64, ..>` with `eval_certified` and `backprop_certified`
# (KIND=rev). The dependencies are built once; then, per N, the crate is touched and rebuilt
# (debug, CARGO_INCREMENTAL=0) and only that rebuild is timed.
#
# The network (NET=1, the default; NET=0 skips it): 50 inputs (24 weights 16×16, 24 biases 16,
# a batch 8×16 and its targets 8×16), 24 × (linear_batch + relu) + cross_entropy = 49 nodes,
# built with the builder; `eval` (data) or `eval_certified` (rev) called.
#
# Every N is first built WITHOUT `#![recursion_limit]`; if that fails, the first error is
# printed and the build is retried with recursion_limit 256, 512, 1024, 2048.
#
# Usage: scripts/compile_time.sh [N ...]          (default: 64 128 256)
#   REPEATS=k   time k touch+rebuilds per N and report the fastest (default 1)
#   PROFILE=release   time release builds instead of debug
#   KINDS="data rev"  which graph kinds to time (default both)
#   NET=0             skip the 49-node network
#   TRANSFORMER=0     skip the debug build of examples/transformer.rs (timed in this repo's own
#                     target dir, after its dependencies are built once)
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
read -r -a kinds <<< "${KINDS:-data rev}"
net="${NET:-1}"
transformer="${TRANSFORMER:-1}"

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

# gen N LIMIT KIND: the program for a chain of N nodes (LIMIT empty: no recursion_limit
# attribute; KIND data or rev).
gen() {
    local n=$1 limit=$2 kind=$3 k prev op
    [ -n "$limit" ] && echo "#![recursion_limit = \"$limit\"]"
    [ "$kind" = rev ] && echo "use shapetape::approx::{EList, RevGraph};"
    [ "$kind" = data ] && echo "use shapetape::autograd::GraphData;"
    cat <<'RS'
use shapetape::ops;
use shapetape::prelude::*;

type G = HList![Vector<4>, Vector<4>];

fn main() {
RS
    if [ "$kind" = rev ]; then
        echo "    let (g, out) = RevGraph::<f32, f64, G, _>::build_with(|b| {"
    else
        echo "    let (g, out) = GraphData::<f32, (), G, _>::build_with(|b| {"
    fi
    echo "        let hlist_pat![a, v0] = b.inputs();"
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
    let seed = TList::single(out, Tensor::new([1.0; 4]));
RS
    if [ "$kind" = rev ]; then
        cat <<'RS'
    let (ctx, eps) = g.eval_certified(EList::zero(), x.clone());
    let (grad, geps) = g.backprop_certified(EList::zero(), x, EList::zero(), seed);
    println!("{:?} {:?} {:?} {:?}", ctx.slot_slices().last(), eps.as_slice().last(), grad.slot_slices().collect::<Vec<_>>(), geps.as_slice());
}
RS
    else
        cat <<'RS'
    let ctx = g.eval(x.clone(), &());
    let grad = g.backprop_ctx(x, &(), seed);
    println!("{:?} {:?}", ctx.slot_slices().last(), grad.slot_slices().collect::<Vec<_>>());
}
RS
    fi
}

# gen_net KIND: the 49-node network (KIND data or rev).
gen_net() {
    local kind=$1 k prev types=""
    for ((k = 0; k < 24; k++)); do types="$types Matrix<16, 16>, Vector<16>,"; done
    [ "$kind" = rev ] && echo "use shapetape::approx::{EList, RevGraph};"
    [ "$kind" = data ] && echo "use shapetape::autograd::GraphData;"
    cat <<RS
use shapetape::ops;
use shapetape::prelude::*;

type G = HList![$types Matrix<8, 16>, Matrix<8, 16>];

fn main() {
RS
    if [ "$kind" = rev ]; then
        echo "    let g = RevGraph::<f32, f64, G, _>::build(|b| {"
    else
        echo "    let g = GraphData::<f32, (), G, _>::build(|b| {"
    fi
    local pat=""
    for ((k = 0; k < 24; k++)); do pat="$pat w$k, b$k,"; done
    echo "        let hlist_pat![$pat x, t] = b.inputs();"
    prev=x
    for ((k = 0; k < 24; k++)); do
        echo "        let (b, h$k) = b.push(|c| ops::linear_batch(c.idx(w$k), c.idx($prev), c.idx(b$k)));"
        echo "        let (b, a$k) = b.push(|c| ops::relu(c.idx(h$k)));"
        prev="a$k"
    done
    cat <<RS
        let (b, _) = b.push(|c| ops::cross_entropy(c.idx($prev), c.idx(t)));
        b
    });
    let x: TList<f32, G> = TList::zero();
RS
    if [ "$kind" = rev ]; then
        echo '    let (ctx, eps) = g.eval_certified(EList::zero(), x);'
        echo '    println!("{:?} {:?}", ctx.slot_slices().last(), eps.as_slice().last());'
    else
        echo '    let ctx = g.eval(x, &());'
        echo '    println!("{:?}", ctx.slot_slices().last());'
    fi
    echo "}"
}

build() { cargo build --quiet --profile "$profile" --manifest-path "$crate/Cargo.toml" "$@"; }

echo "rustc: $(rustc --version); profile: $profile; CARGO_INCREMENTAL=0; nproc: $(nproc)"
echo "building the dependencies once (N = 4) ..."
gen 4 "" data > "$crate/src/main.rs"
build

# time_build: the fastest of `repeats` touch+rebuilds, as "wall cpu peak_kib".
time_build() {
    local best_w="" best_c="" best_m="" w u s m c r
    for ((r = 0; r < repeats; r++)); do
        touch "$crate/src/main.rs"
        read -r w u s m < <(/usr/bin/time -f '%e %U %S %M' cargo build --quiet --profile "$profile" --manifest-path "$crate/Cargo.toml" 2>&1 >/dev/null | tail -1)
        c=$(echo "$u + $s" | bc -l)
        if [ -z "$best_w" ] || (($(echo "$w < $best_w" | bc -l))); then best_w=$w; fi
        if [ -z "$best_c" ] || (($(echo "$c < $best_c" | bc -l))); then best_c=$c; fi
        if [ -z "$best_m" ] || ((m < best_m)); then best_m=$m; fi
    done
    echo "$best_w $best_c $best_m"
}

declare -A wall cpu need mem
for kind in "${kinds[@]}"; do
    for n in "${sizes[@]}"; do
        ok=""
        for limit in "" 256 512 1024 2048; do
            gen "$n" "$limit" "$kind" > "$crate/src/main.rs"
            if build 2> "$work/err-$kind-$n.txt"; then
                ok=1
                break
            fi
            echo "$kind N = $n, recursion_limit ${limit:-default (128)}: build FAILED; first error:"
            grep -m1 -E '^error' "$work/err-$kind-$n.txt" | cut -c1-400 || true
            grep -m1 -E 'recursion_limit|panicked' "$work/err-$kind-$n.txt" | cut -c1-300 || true
        done
        key="$kind-$n"
        need[$key]="${limit:-not needed}"
        if [ -z "$ok" ]; then
            wall[$key]=failed
            cpu[$key]=failed
            mem[$key]=failed
            continue
        fi
        read -r w c m < <(time_build)
        wall[$key]=$(printf "%.2f" "$w")
        cpu[$key]=$(printf "%.2f" "$c")
        mem[$key]=$((m / 1024))
        echo "$kind N = $n: recursion_limit ${need[$key]}; wall ${wall[$key]} s, CPU (user+sys) ${cpu[$key]} s, peak rustc ${mem[$key]} MB (load: $(cut -d' ' -f1-3 /proc/loadavg))"
    done
done

echo
echo "| graph | N | recursion_limit needed | wall (s) | CPU user+sys (s) | peak rustc (MB) |"
echo "|---|---|---|---|---|---|"
for kind in "${kinds[@]}"; do
    for n in "${sizes[@]}"; do
        key="$kind-$n"
        echo "| $kind | $n | ${need[$key]} | ${wall[$key]} | ${cpu[$key]} | ${mem[$key]} |"
    done
done
for kind in "${kinds[@]}"; do
    if [ -n "${wall[$kind-128]:-}" ] && [ -n "${wall[$kind-256]:-}" ] && [ "${wall[$kind-128]}" != failed ] && [ "${wall[$kind-256]}" != failed ]; then
        echo "$kind t(256)/t(128): wall $(echo "${wall[$kind-256]} / ${wall[$kind-128]}" | bc -l | cut -c1-5), CPU $(echo "${cpu[$kind-256]} / ${cpu[$kind-128]}" | bc -l | cut -c1-5)"
    fi
done
for n in "${sizes[@]}"; do
    if [ "${wall[data-$n]:-failed}" != failed ] && [ "${wall[rev-$n]:-failed}" != failed ]; then
        echo "N = $n: rev/data wall $(echo "${wall[rev-$n]} / ${wall[data-$n]}" | bc -l | cut -c1-5)"
    fi
done

if [ "$net" = 1 ]; then
    echo
    echo "49-node network (24 × (linear_batch + relu) + cross_entropy over 50 inputs), builder:"
    echo "| graph | wall (s) | CPU user+sys (s) | peak rustc (MB) | binary (MB) |"
    echo "|---|---|---|---|---|"
    declare -A nw
    for kind in data rev; do
        gen_net "$kind" > "$crate/src/main.rs"
        if ! build 2> "$work/err-net-$kind.txt"; then
            echo "| $kind | build FAILED: $(grep -m1 -E '^error' "$work/err-net-$kind.txt" | cut -c1-200) | | | |"
            continue
        fi
        read -r w c m < <(time_build)
        dir=debug
        [ "$profile" != dev ] && dir="$profile"
        size=$(stat -c %s "$CARGO_TARGET_DIR/$dir/chain_compile_time")
        nw[$kind]=$w
        echo "| $kind | $(printf "%.2f" "$w") | $(printf "%.2f" "$c") | $((m / 1024)) | $(echo "$size / 1048576" | bc -l | cut -c1-5) |"
    done
    if [ -n "${nw[data]:-}" ] && [ -n "${nw[rev]:-}" ]; then
        echo "rev/data wall: $(echo "${nw[rev]} / ${nw[data]}" | bc -l | cut -c1-5)"
    fi
fi

if [ "$transformer" = 1 ]; then
    echo
    echo "examples/transformer.rs (2 layers, 4 heads, 52 nodes), debug build of the example alone:"
    (cd "$repo" && CARGO_TARGET_DIR="$repo/target" cargo build --quiet --example transformer)
    best=""
    for ((r = 0; r < repeats; r++)); do
        touch "$repo/examples/transformer.rs"
        read -r w u s m < <(cd "$repo" && CARGO_TARGET_DIR="$repo/target" /usr/bin/time -f '%e %U %S %M' cargo build --quiet --example transformer 2>&1 >/dev/null | tail -1)
        if [ -z "$best" ] || (($(echo "$w < $best" | bc -l))); then best=$w; bm=$m; bc_=$(echo "$u + $s" | bc -l); fi
    done
    echo "| example | wall (s) | CPU user+sys (s) | peak rustc (MB) |"
    echo "|---|---|---|---|"
    echo "| transformer | $(printf "%.2f" "$best") | $(printf "%.2f" "$bc_") | $((bm / 1024)) |"
fi
