//! Convolution and pooling (NCHW, PyTorch layouts): [`conv2d`], [`conv1d`], [`max_pool2d`],
//! [`avg_pool2d`], [`adaptive_avg_pool2d`], [`global_avg_pool2d`].
//!
//! **Layouts and what users write.** Inputs are [`Nchw<N, C, H, W>`](Nchw) (batch,
//! channels, height, width; `Dim<N, Matrix<C, L>>` for 1-d), weights `[out, in / groups, kH,
//! kW]` (`[out, in / groups, k]`), biases `Vector<OUT>`, all row-major as PyTorch's contiguous
//! tensors. The constants (stride, padding, dilation, groups, window size) are const generics
//! carried by a zero-sized parameter value passed last, so every size is inferred from the
//! operands and the output shape is computed by the compiler
//! ([`ConvDim`](crate::shape_arith::ConvDim): `⌊(H + 2P − D(K − 1) − 1)/S⌋ + 1` per axis).
//! What users write is shown in the docs of [`conv2d`], [`conv1d`] and [`max_pool2d`] (with the
//! other pools).
//!
//! A wrong combination is a compile error that says what is wrong: a kernel larger than the
//! padded input (see [`shape_arith`](crate::shape_arith)), groups that do not divide the
//! channels ([`GroupsDivideChannels`]), a pooling padding above half the window
//! ([`PoolPaddingAtMostHalf`]).
//!
//! **Mathematics.** With `x̃` the input extended by zeros (the padding), `Cg = C / groups`,
//! `Og = O / groups` and `g(o) = ⌊o / Og⌋` the group of output channel `o`,
//!
//! ```text
//! y[n, o, i, j] = b[o] + Σ_{c < Cg} Σ_{a < kH} Σ_{β < kW} w[o, c, a, β] · x̃[n, g(o)·Cg + c, i·sH − pH + a·dH, j·sW − pW + β·dW]
//! ```
//!
//! (a cross-correlation, as PyTorch's `conv2d`). It is bilinear in `(x, w)` plus `b`: the JVP is
//! `conv(dx, w) + conv(x, dw) + db`, and the VJP is, for the input, the transposed convolution
//! of `δ` with `w` (each input entry collects `w · δ` from every output window that reads it),
//! for the weight the correlation of the input with `δ` (`w̄[o, c, a, β] = Σ_{n, i, j} δ[n, o,
//! i, j] x̃[…]`), and for the bias the sum of `δ` over batch and positions. Pooling: `max_pool2d`
//! takes the maximum over each window (padding never wins: PyTorch pads with `−∞`); its JVP and
//! VJP route through the **first** maximal entry of the window in row-major order (PyTorch's
//! convention for the index it returns), so on a tie the whole gradient goes to the earliest
//! maximal entry. `avg_pool2d` divides the sum over the window by `kH·kW`, padded zeros
//! included (PyTorch's default `count_include_pad=True`). `adaptive_avg_pool2d` averages, for
//! output `i` of `OH` over an axis of length `H`, the entries `⌊iH/OH⌋ ≤ k < ⌈(i + 1)H/OH⌉`
//! (PyTorch's regions), and `global_avg_pool2d` is its `1×1` case with the two unit axes
//! dropped. The pools are linear (average) or piecewise linear (maximum), so every op here is
//! checked exactly over ℚ.
//!
//! **Implementation.** The convolutions use im2col, one sample at a time: for each sample and
//! group the windows of the input are laid out as the columns of a `(Cg·kH·kW) × (OH·OW)`
//! matrix (small enough to stay in cache), and the forward pass, the sample's share of the
//! weight gradient and its column gradient are each one [`Element::gemm`] (the blocked kernel
//! for large `f32`/`f64` products); the weight gradient adds the samples' products in order,
//! and the column gradient is folded back onto the input (col2im).
//! All the index arithmetic is run-time code on a [`ConvGeometry`], generic only over the
//! scalar, so a network with many convolution shapes compiles each kernel once per scalar.
//!
//! **Certified bounds.** [`Convolution`] gives closed-form a-priori bounds, the dot-product
//! bound of the matrix ops ([`Matmul`](crate::ops::Matmul)) applied to the im2col matrices (input errors plus
//! `γₖ·|A||B|`, valid for any summation order): the forward pass is `W_g · cols_g` plus the bias
//! error and the rounding of the bias addition; the weight gradient `δ_g · cols_gᵀ` (inner
//! dimension `N·OH·OW`; the runtime sums each sample's `OH·OW` products in a gemm and then the
//! `N` sample sums, one summation order of the same products in which each product passes
//! through at most `OH·OW + N − 1 ≤ N·OH·OW` roundings in f32/f64, and `OH·OW + N ≤ N·OH·OW + 1`
//! in a half format (the f32 gemm, one rounding to the format, `N − 1` additions in it), both
//! within the `γ` that `gemm_bound` takes for that inner dimension); the bias gradient `δ · 𝟙`; the input gradient the product of the
//! weight, laid out `Cg × (Og·kH·kW)`, with the matrix of `δ` that a transposed convolution
//! reads (one column per input position, zero where no window reaches): the runtime computes
//! each of its entries as the gemm over `Og` followed by the col2im additions, a sum of the same
//! products in another order, which the bound covers. Any operand that is NaN or infinite
//! gives `+∞`. The pools use the interval enclosure of their own code (for `max_pool2d` the
//! first-maximum indicator is written with Heaviside steps, so on an uncertain comparison the
//! enclosure covers every routing).

use core::marker::PhantomData;
use core::ops::{Add, Mul, Range, Rem};

use smallvec::SmallVec;
use typenum::{B1, Const, Max, Maximum, Mod, Prod, Sum, ToUInt, U, U0, U1};

use crate::approx::RuntimeFloat;
use crate::approx::dot_bound::{add_rounding, gemm_bound};
use crate::approx::round::add_up;
use crate::autograd::op::{
    Eval, Op, OpNode, Operands, Pullback, Slot, SlotBounds, VjpBounds, op_node,
};
use crate::ops::kernels::lane_sum;
use crate::scalar::Element;
use crate::shape::{Dim, Matrix, Shape, Vector};
use crate::shape_arith::{Conv, ConvDim, ConvOutput, EqT, LeT, PositiveT, Truth};
use crate::shape_list::ShapeList;
use crate::tensor::Tensor;
use crate::tlist::Idx;

/// The shape `[N, C, H, W]` of a batch of `N` images of `C` channels, `H × W` (PyTorch's NCHW),
/// `Dim<N, Dim<C, Dim<H, Vector<W>>>>`.
pub type Nchw<const N: usize, const C: usize, const H: usize, const W: usize> =
    Dim<N, Dim<C, Dim<H, Vector<W>>>>;

// ---------------------------------------------------------------------------------------------
// Parameters.

/// The constants of a 2-d convolution: stride `(SH, SW)`, zero padding `(PH, PW)` on each side,
/// dilation `(DH, DW)` and `G` groups (PyTorch's `stride`, `padding`, `dilation`, `groups`).
///
/// Start from [`Conv2dParams::new`] (PyTorch's defaults) and change what differs:
/// `Conv2dParams::new().stride::<2>().padding::<1>()`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Conv2dParams<
    const SH: usize,
    const SW: usize,
    const PH: usize,
    const PW: usize,
    const DH: usize,
    const DW: usize,
    const G: usize,
>;

impl Conv2dParams<1, 1, 0, 0, 1, 1, 1> {
    /// PyTorch's defaults: stride 1, no padding, dilation 1, one group.
    pub const fn new() -> Self {
        Conv2dParams
    }
}

impl<
    const SH: usize,
    const SW: usize,
    const PH: usize,
    const PW: usize,
    const DH: usize,
    const DW: usize,
    const G: usize,
> Conv2dParams<SH, SW, PH, PW, DH, DW, G>
{
    /// The same parameters with stride `S` on both axes.
    pub const fn stride<const S: usize>(self) -> Conv2dParams<S, S, PH, PW, DH, DW, G> {
        Conv2dParams
    }
    /// The same parameters with stride `SH2` along the height and `SW2` along the width.
    pub const fn stride_hw<const SH2: usize, const SW2: usize>(
        self,
    ) -> Conv2dParams<SH2, SW2, PH, PW, DH, DW, G> {
        Conv2dParams
    }
    /// The same parameters with `P` zeros of padding on each side of both axes.
    pub const fn padding<const P: usize>(self) -> Conv2dParams<SH, SW, P, P, DH, DW, G> {
        Conv2dParams
    }
    /// The same parameters with padding `PH2` (height) and `PW2` (width) on each side.
    pub const fn padding_hw<const PH2: usize, const PW2: usize>(
        self,
    ) -> Conv2dParams<SH, SW, PH2, PW2, DH, DW, G> {
        Conv2dParams
    }
    /// The same parameters with dilation `D` on both axes (taps `D` entries apart).
    pub const fn dilation<const D: usize>(self) -> Conv2dParams<SH, SW, PH, PW, D, D, G> {
        Conv2dParams
    }
    /// The same parameters with dilation `DH2` (height) and `DW2` (width).
    pub const fn dilation_hw<const DH2: usize, const DW2: usize>(
        self,
    ) -> Conv2dParams<SH, SW, PH, PW, DH2, DW2, G> {
        Conv2dParams
    }
    /// The same parameters with `G2` groups (channels split into `G2` independent blocks).
    pub const fn groups<const G2: usize>(self) -> Conv2dParams<SH, SW, PH, PW, DH, DW, G2> {
        Conv2dParams
    }
}

/// The constants of a 1-d convolution: stride `S`, zero padding `P` on each side, dilation `D`
/// and `G` groups (PyTorch's `conv1d` arguments).
///
/// Start from [`Conv1dParams::new`] (PyTorch's defaults): `Conv1dParams::new().stride::<2>()`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Conv1dParams<const S: usize, const P: usize, const D: usize, const G: usize>;

impl Conv1dParams<1, 0, 1, 1> {
    /// PyTorch's defaults: stride 1, no padding, dilation 1, one group.
    pub const fn new() -> Self {
        Conv1dParams
    }
}

impl<const S: usize, const P: usize, const D: usize, const G: usize> Conv1dParams<S, P, D, G> {
    /// The same parameters with stride `S2`.
    pub const fn stride<const S2: usize>(self) -> Conv1dParams<S2, P, D, G> {
        Conv1dParams
    }
    /// The same parameters with `P2` zeros of padding on each side.
    pub const fn padding<const P2: usize>(self) -> Conv1dParams<S, P2, D, G> {
        Conv1dParams
    }
    /// The same parameters with dilation `D2`.
    pub const fn dilation<const D2: usize>(self) -> Conv1dParams<S, P, D2, G> {
        Conv1dParams
    }
    /// The same parameters with `G2` groups.
    pub const fn groups<const G2: usize>(self) -> Conv1dParams<S, P, D, G2> {
        Conv1dParams
    }
}

/// The constants of a 2-d pooling window: size `KH × KW`, stride `(SH, SW)`, padding `(PH, PW)`
/// on each side (PyTorch's `kernel_size`, `stride`, `padding`; dilation 1).
///
/// Made by [`pool_window`] (a square window with PyTorch's default stride, the window size) and
/// changed by the methods: `ops::pool_window::<3>().stride::<1>().padding::<1>()`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Pool2dParams<
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    const PH: usize,
    const PW: usize,
>;

/// A `K × K` pooling window with stride `K` and no padding (PyTorch's `kernel_size=K`).
pub const fn pool_window<const K: usize>() -> Pool2dParams<K, K, K, K, 0, 0> {
    Pool2dParams
}

/// A `KH × KW` pooling window with stride `(KH, KW)` and no padding.
pub const fn pool_window_hw<const KH: usize, const KW: usize>() -> Pool2dParams<KH, KW, KH, KW, 0, 0>
{
    Pool2dParams
}

impl<
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    const PH: usize,
    const PW: usize,
> Pool2dParams<KH, KW, SH, SW, PH, PW>
{
    /// The same window with stride `S` on both axes.
    pub const fn stride<const S: usize>(self) -> Pool2dParams<KH, KW, S, S, PH, PW> {
        Pool2dParams
    }
    /// The same window with stride `SH2` (height) and `SW2` (width).
    pub const fn stride_hw<const SH2: usize, const SW2: usize>(
        self,
    ) -> Pool2dParams<KH, KW, SH2, SW2, PH, PW> {
        Pool2dParams
    }
    /// The same window with padding `P` on each side of both axes.
    pub const fn padding<const P: usize>(self) -> Pool2dParams<KH, KW, SH, SW, P, P> {
        Pool2dParams
    }
    /// The same window with padding `PH2` (height) and `PW2` (width) on each side.
    pub const fn padding_hw<const PH2: usize, const PW2: usize>(
        self,
    ) -> Pool2dParams<KH, KW, SH, SW, PH2, PW2> {
        Pool2dParams
    }
}

/// The output size `OH × OW` of [`adaptive_avg_pool2d`] (PyTorch's `output_size`), as a value:
/// `AdaptiveSize::<1, 1>`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct AdaptiveSize<const OH: usize, const OW: usize>;

// ---------------------------------------------------------------------------------------------
// Compile-time checks.

/// Check: the groups divide the channels (`G ≥ 1`, `C = G·Cg` with `Cg` the weight's second
/// axis, and `O` divisible by `G`).
#[diagnostic::on_unimplemented(
    message = "the groups must divide the channels: with {G} groups, the {C} input channels must be {G} × {CG} (groups × the weight's second axis) and the {O} output channels a multiple of {G}",
    label = "groups do not divide the channels",
    note = "a convolution with G groups takes an input of C channels and a weight [O, C / G, …], with G ≥ 1 dividing both C and O (PyTorch's `groups`)"
)]
pub trait GroupsDivideChannels<const C: usize, const CG: usize, const O: usize, const G: usize> {}
impl<const C: usize, const CG: usize, const O: usize, const G: usize>
    GroupsDivideChannels<C, CG, O, G> for B1
{
}

/// Check: a pooling padding is at most half the window (`2P ≤ K`), so every window holds an
/// input entry.
#[diagnostic::on_unimplemented(
    message = "the padding of a pooling window is at most half its size: padding {P} on each side of a window of {K}",
    label = "padding larger than half the window",
    note = "pooling needs 2·P ≤ K on every axis (as PyTorch), so that no window lies entirely in the padding"
)]
pub trait PoolPaddingAtMostHalf<const K: usize, const P: usize> {}
impl<const K: usize, const P: usize> PoolPaddingAtMostHalf<K, P> for B1 {}

/// `max(x, 1)`.
type AtLeast1<const X: usize> = Maximum<U<X>, U1>;
/// `G ≥ 1 ∧ Cg·G = C ∧ O mod max(G, 1) = 0`.
type GroupsOk<const C: usize, const CG: usize, const O: usize, const G: usize> =
    <<<U<G> as PositiveT>::Output as Truth>::And<<Prod<U<CG>, U<G>> as EqT<U<C>>>::Output> as Truth>::And<
        <Mod<U<O>, AtLeast1<G>> as EqT<U0>>::Output,
    >;
/// `2P ≤ K`.
type HalfOk<const K: usize, const P: usize> = <Sum<U<P>, U<P>> as LeT<U<K>>>::Output;

// ---------------------------------------------------------------------------------------------
// Geometry and the run-time kernels.

/// The sizes of a convolution or pooling window over an `N × C × H × W` input (a 1-d op has
/// height 1): what the kernels read, fixed by the types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConvGeometry {
    /// `N`, the batch size.
    pub batch: usize,
    /// `C`, the input channels.
    pub in_channels: usize,
    /// `(H, W)`, the input size.
    pub in_size: [usize; 2],
    /// `O`, the output channels (`C` for pooling).
    pub out_channels: usize,
    /// The number of groups (`C` for pooling: each channel on its own).
    pub groups: usize,
    /// `(kH, kW)`, the window size.
    pub kernel: [usize; 2],
    /// `(sH, sW)`.
    pub stride: [usize; 2],
    /// `(pH, pW)`, on each side.
    pub padding: [usize; 2],
    /// `(dH, dW)`.
    pub dilation: [usize; 2],
    /// `(OH, OW)`, the output size.
    pub out_size: [usize; 2],
}

impl ConvGeometry {
    /// Input channels per group, `Cg`.
    fn cg(&self) -> usize {
        self.in_channels / self.groups.max(1)
    }
    /// Output channels per group, `Og`.
    fn og(&self) -> usize {
        self.out_channels / self.groups.max(1)
    }
    /// `kH·kW`.
    fn taps(&self) -> usize {
        self.kernel[0] * self.kernel[1]
    }
    /// The rows of a group's im2col matrix, `Cg·kH·kW`.
    fn patch(&self) -> usize {
        self.cg() * self.taps()
    }
    /// `H·W`.
    fn plane(&self) -> usize {
        self.in_size[0] * self.in_size[1]
    }
    /// `OH·OW`.
    fn positions(&self) -> usize {
        self.out_size[0] * self.out_size[1]
    }
    /// The columns of an im2col matrix, `N·OH·OW`.
    fn columns(&self) -> usize {
        self.batch * self.positions()
    }

    /// The input index along `axis` read by output position `o` at tap `t`, if inside.
    fn source(&self, axis: usize, o: usize, t: usize) -> Option<usize> {
        let i =
            (o * self.stride[axis] + t * self.dilation[axis]).checked_sub(self.padding[axis])?;
        (i < self.in_size[axis]).then_some(i)
    }

    /// The output positions along `axis` whose tap `t` reads inside the input (a range: the
    /// read index `o·s + t·d − p` grows with `o`).
    fn valid(&self, axis: usize, t: usize) -> Range<usize> {
        let (s, p, n) = (
            self.stride[axis].max(1),
            self.padding[axis],
            self.in_size[axis],
        );
        let off = t * self.dilation[axis];
        // o·s + off ≥ p  and  o·s + off < n + p
        let lo = p.saturating_sub(off).div_ceil(s);
        let hi = (n + p)
            .saturating_sub(off)
            .div_ceil(s)
            .min(self.out_size[axis]);
        lo.min(hi)..hi
    }

    /// For every kernel row `a` and column `β`, the output rows and columns whose tap reads
    /// inside the input ([`ConvGeometry::valid`] along each axis), computed once per kernel.
    fn tap_ranges(&self) -> TapRanges {
        TapRanges {
            rows: (0..self.kernel[0]).map(|a| self.valid(0, a)).collect(),
            cols: (0..self.kernel[1]).map(|b| self.valid(1, b)).collect(),
        }
    }

    /// The offset of the plane of sample `n`, input channel `c` of group `g`.
    fn plane_at(&self, n: usize, g: usize, c: usize, cg: usize) -> usize {
        (n * self.in_channels + g * cg + c) * self.plane()
    }

    /// Writes into `out` (`OH·OW` entries) row `(c, a, β)` of a sample's im2col matrix,
    /// reading the input plane that starts at `plane`: entry `(i, j)` is
    /// `x̃[…, i·sH − pH + a·dH, j·sW − pW + β·dW]` (0 in the padding). Every entry of `out` is
    /// written once (zeros only where the window reads the padding), so `out` may hold
    /// anything before.
    fn write_window_row<A: Element>(
        &self,
        x: &[A],
        plane: usize,
        (a, b): (usize, usize),
        taps: &TapRanges,
        out: &mut [A],
    ) {
        let w = self.in_size[1];
        let ow = self.out_size[1];
        let (rows, cs) = (taps.rows[a].clone(), taps.cols[b].clone());
        if cs.is_empty() || rows.is_empty() {
            out.fill(A::zero());
            return;
        }
        let x0 = (cs.start * self.stride[1] + b * self.dilation[1]).saturating_sub(self.padding[1]);
        let padded = cs.start > 0 || cs.end < ow;
        fill_zero(&mut out[..rows.start * ow]);
        fill_zero(&mut out[rows.end * ow..]);
        let (sh, dh, ph, sw) = (
            self.stride[0],
            self.dilation[0],
            self.padding[0],
            self.stride[1],
        );
        for (i, seg) in out
            .chunks_exact_mut(ow)
            .enumerate()
            .take(rows.end)
            .skip(rows.start)
        {
            let iy = i * sh + a * dh - ph;
            let line = &x[plane + iy * w..plane + (iy + 1) * w];
            if padded {
                fill_zero(&mut seg[..cs.start]);
                fill_zero(&mut seg[cs.end..]);
            }
            let dst = &mut seg[cs.clone()];
            if sw == 1 {
                copy_short(dst, &line[x0..x0 + cs.len()]);
            } else {
                for (d, s) in dst.iter_mut().zip(line[x0..].iter().step_by(sw)) {
                    *d = s.clone();
                }
            }
        }
    }

    /// Adds the `OH·OW` entries `src` of row `(c, a, β)` of a sample's im2col matrix onto the
    /// entries of the input plane at `plane` they were read from (the adjoint of
    /// [`ConvGeometry::write_window_row`]; entries in the padding are dropped).
    fn add_window_row<A: Element>(
        &self,
        src: &[A],
        plane: usize,
        (a, b): (usize, usize),
        taps: &TapRanges,
        out: &mut [A],
    ) {
        let w = self.in_size[1];
        let ow = self.out_size[1];
        let (rows, cs) = (taps.rows[a].clone(), taps.cols[b].clone());
        if cs.is_empty() {
            return;
        }
        let x0 = (cs.start * self.stride[1] + b * self.dilation[1]).saturating_sub(self.padding[1]);
        for i in rows {
            let iy = i * self.stride[0] + a * self.dilation[0] - self.padding[0];
            let line = &mut out[plane + iy * w..plane + (iy + 1) * w];
            let src = &src[i * ow + cs.start..i * ow + cs.end];
            if self.stride[1] == 1 {
                // Contiguous on both sides: a loop the compiler vectorises.
                for (dst, v) in line[x0..x0 + src.len()].iter_mut().zip(src) {
                    *dst = dst.clone() + v.clone();
                }
            } else {
                let dsts = line[x0..].iter_mut().step_by(self.stride[1].max(1));
                for (dst, v) in dsts.zip(src) {
                    *dst = dst.clone() + v.clone();
                }
            }
        }
    }

    /// The im2col matrix of group `g` of `x`: row `(c, a, β)` (`c < Cg`), column `(n, i, j)`,
    /// entry `x̃[n, g·Cg + c, i·sH − pH + a·dH, j·sW − pW + β·dW]` (0 in the padding).
    fn im2col<A: Element>(&self, x: &[A], g: usize) -> Vec<A> {
        let (taps, cg, l) = (self.tap_ranges(), self.cg(), self.positions());
        let mut cols = vec![A::zero(); self.patch() * self.columns()];
        let mut rows = cols.chunks_exact_mut(l.max(1));
        for c in 0..cg {
            for a in 0..self.kernel[0] {
                for b in 0..self.kernel[1] {
                    for n in 0..self.batch {
                        let plane = self.plane_at(n, g, c, cg);
                        let row = rows.next().expect("one row per (c, a, β, n)");
                        self.write_window_row(x, plane, (a, b), &taps, row);
                    }
                }
            }
        }
        cols
    }

    /// Sample `n`'s im2col matrix of group `g`, `(Cg·kH·kW) × (OH·OW)` (the columns of
    /// [`ConvGeometry::im2col`] that belong to sample `n`), written into `cols` (resized to it;
    /// what it held before is overwritten).
    fn im2col_sample<A: Element>(
        &self,
        x: &[A],
        (n, g): (usize, usize),
        taps: &TapRanges,
        cols: &mut Vec<A>,
    ) {
        let l = self.positions();
        cols.resize(self.patch() * l, A::zero());
        if self.padding == [0, 0] && self.stride[1] == 1 {
            A::vectorized(
                #[inline(always)]
                || self.im2col_sample_unpadded(x, (n, g), cols),
            );
            return;
        }
        let rows = cols.chunks_exact_mut(l.max(1));
        for (row, (plane, tap)) in rows.zip(self.window_rows(n, g)) {
            self.write_window_row(x, plane, tap, taps, row);
        }
    }

    /// The rows `(c, a, β)` of the column matrix of sample `n` and group `g`, in order: the
    /// offset of the input plane of channel `c` and the tap `(a, β)`.
    fn window_rows(&self, n: usize, g: usize) -> impl Iterator<Item = (usize, (usize, usize))> {
        let (cg, [kh, kw]) = (self.cg(), self.kernel);
        let planes = (0..cg).map(move |c| self.plane_at(n, g, c, cg));
        planes.flat_map(move |p| (0..kh).flat_map(move |a| (0..kw).map(move |b| (p, (a, b)))))
    }

    /// [`ConvGeometry::im2col_sample`] without padding and with stride 1 along the width: every
    /// window reads inside the input, and each output row of a row `(c, a, β)` of the matrix is
    /// a contiguous piece of an input line (copied in blocks, not by a call per piece).
    #[inline(always)]
    fn im2col_sample_unpadded<A: Element>(&self, x: &[A], (n, g): (usize, usize), cols: &mut [A]) {
        let (w, ow) = (self.in_size[1], self.out_size[1]);
        let step = self.stride[0] * w;
        let rows = cols.chunks_exact_mut(self.positions().max(1));
        for (row, (plane, (a, b))) in rows.zip(self.window_rows(n, g)) {
            let start = plane + a * self.dilation[0] * w + b * self.dilation[1];
            let lines = x[start..].chunks(step.max(1));
            for (dst, line) in row.chunks_exact_mut(ow.max(1)).zip(lines) {
                copy_short(dst, &line[..ow]);
            }
        }
    }

    /// The adjoint of [`ConvGeometry::im2col_sample`], added onto `out`: every entry of the
    /// `(Cg·kH·kW) × (OH·OW)` matrix `cols` is added to the input entry it was read from.
    fn col2im_sample_add<A: Element>(
        &self,
        cols: &[A],
        (n, g): (usize, usize),
        taps: &TapRanges,
        out: &mut [A],
    ) {
        let l = self.positions();
        if self.padding == [0, 0] && self.stride[1] == 1 {
            A::vectorized(
                #[inline(always)]
                || self.col2im_sample_add_unpadded(cols, (n, g), out),
            );
            return;
        }
        let rows = cols.chunks_exact(l.max(1));
        for (src, (plane, tap)) in rows.zip(self.window_rows(n, g)) {
            self.add_window_row(src, plane, tap, taps, out);
        }
    }

    /// [`ConvGeometry::col2im_sample_add`] without padding and with stride 1 along the width
    /// (the adjoint of [`ConvGeometry::im2col_sample_unpadded`]): each output row of a row
    /// `(c, a, β)` of `cols` is added onto a contiguous piece of an input line. Every input
    /// entry receives its terms in the same order as in the general loop (by `(a, β)`).
    #[inline(always)]
    fn col2im_sample_add_unpadded<A: Element>(
        &self,
        cols: &[A],
        (n, g): (usize, usize),
        out: &mut [A],
    ) {
        let (w, ow, l) = (self.in_size[1], self.out_size[1], self.positions());
        let step = self.stride[0] * w;
        let rows = cols.chunks_exact(l.max(1));
        for (row, (plane, (a, b))) in rows.zip(self.window_rows(n, g)) {
            let start = plane + a * self.dilation[0] * w + b * self.dilation[1];
            let lines = out[start..].chunks_mut(step.max(1));
            for (src, line) in row.chunks_exact(ow.max(1)).zip(lines) {
                for (d, s) in line[..ow].iter_mut().zip(src) {
                    *d = d.clone() + s.clone();
                }
            }
        }
    }

    /// `δ` of the output channels of group `g`, as an `Og × (N·OH·OW)` matrix.
    fn seed_rows<A: Clone>(&self, seed: &[A], g: usize) -> Vec<A> {
        let (og, l) = (self.og(), self.positions());
        let mut out = Vec::with_capacity(og * self.columns());
        for o in g * og..(g + 1) * og {
            for n in 0..self.batch {
                let at = (n * self.out_channels + o) * l;
                out.extend_from_slice(&seed[at..at + l]);
            }
        }
        out
    }

    /// The rows of `δ` (or of the output) for sample `n` and the channels of group `g`: an
    /// `Og × (OH·OW)` block, contiguous in NCHW.
    fn sample_block(&self, n: usize, g: usize) -> Range<usize> {
        let (og, l) = (self.og(), self.positions());
        let at = (n * self.out_channels + g * og) * l;
        at..at + og * l
    }

    /// `Σ_t W_t ⋆ X_t` over the pairs `(x_t, w_t)` (one convolution per pair, each through
    /// im2col and one gemm per sample and group), plus the bias if given: the output
    /// `N × O × OH × OW`. Each entry is `(Σ_t (W_t · cols_t)) + b`, the products summed over
    /// `Cg·kH·kW` by [`Element::gemm`].
    fn correlate<A: Element>(&self, pairs: &[(&[A], &[A])], bias: Option<&[A]>) -> Vec<A> {
        let (og, k, l) = (self.og(), self.patch(), self.positions());
        let mut y = vec![A::zero(); self.batch * self.out_channels * l];
        let (mut cols, taps) = (Vec::with_capacity(k * l), self.tap_ranges());
        for n in 0..self.batch {
            for g in 0..self.groups {
                let mut acc: Option<Vec<A>> = None;
                for &(x, w) in pairs {
                    self.im2col_sample(x, (n, g), &taps, &mut cols);
                    let prod = A::gemm(
                        &w[g * og * k..(g + 1) * og * k],
                        false,
                        &cols,
                        false,
                        og,
                        k,
                        l,
                    );
                    acc = Some(match acc {
                        None => prod,
                        Some(mut s) => {
                            for (a, b) in s.iter_mut().zip(prod) {
                                *a = a.clone() + b;
                            }
                            s
                        }
                    });
                }
                let Some(acc) = acc else { continue };
                let dst = &mut y[self.sample_block(n, g)];
                match bias {
                    Some(bias) => {
                        let rows = dst.chunks_exact_mut(l).zip(acc.chunks_exact(l));
                        for (o, (d, s)) in rows.enumerate() {
                            let b = &bias[g * og + o];
                            for (d, s) in d.iter_mut().zip(s) {
                                *d = s.clone() + b.clone();
                            }
                        }
                    }
                    None => dst.clone_from_slice(&acc),
                }
            }
        }
        if pairs.is_empty() {
            if let Some(bias) = bias {
                for (i, v) in y.iter_mut().enumerate() {
                    *v = v.clone() + bias[(i / l) % self.out_channels].clone();
                }
            }
        }
        y
    }

    /// The weight gradient `w̄_g = Σ_n δ_{n,g} cols_{n,g}ᵀ` of every group (one gemm over the
    /// `OH·OW` positions per sample, the samples' products added in order), stacked as
    /// `O × Cg·kH·kW`.
    fn weight_grad<A: Element>(&self, x: &[A], seed: &[A]) -> Vec<A> {
        let (og, k, l) = (self.og(), self.patch(), self.positions());
        let mut out = vec![A::zero(); self.out_channels * k];
        let (mut cols, taps) = (Vec::with_capacity(k * l), self.tap_ranges());
        for n in 0..self.batch {
            for g in 0..self.groups {
                self.im2col_sample(x, (n, g), &taps, &mut cols);
                let d = &seed[self.sample_block(n, g)];
                let prod = A::gemm(d, false, &cols, true, og, l, k);
                let dst = &mut out[g * og * k..(g + 1) * og * k];
                if n == 0 {
                    dst.clone_from_slice(&prod);
                } else {
                    for (a, b) in dst.iter_mut().zip(prod) {
                        *a = a.clone() + b;
                    }
                }
            }
        }
        out
    }

    /// The input gradient: `col2im(w_gᵀ δ_{n,g})` for every sample and group.
    fn input_grad<A: Element>(&self, w: &[A], seed: &[A]) -> Vec<A> {
        let (og, k, l) = (self.og(), self.patch(), self.positions());
        let mut out = vec![A::zero(); self.batch * self.in_channels * self.plane()];
        let taps = self.tap_ranges();
        for n in 0..self.batch {
            for g in 0..self.groups {
                let wg = &w[g * og * k..(g + 1) * og * k];
                let dcols = A::gemm(wg, true, &seed[self.sample_block(n, g)], false, k, og, l);
                self.col2im_sample_add(&dcols, (n, g), &taps, &mut out);
            }
        }
        out
    }

    /// The bias gradient `b̄[o] = Σ_{n, i, j} δ[n, o, i, j]`: each plane `δ[n, o]` summed in
    /// eight interleaved partial sums ([`lane_sum`], which vectorises: chains of `OH·OW / 8`
    /// additions instead of one chain of `N·OH·OW`, faster and more accurate), the planes added
    /// from 0 in sample order.
    fn bias_grad<A: Element>(&self, seed: &[A]) -> Vec<A> {
        let (o_n, l) = (self.out_channels, self.positions());
        let mut out = vec![A::zero(); o_n];
        if l == 0 || o_n == 0 {
            return out;
        }
        A::vectorized(
            #[inline(always)]
            || {
                for sample in seed.chunks_exact(o_n * l) {
                    for (acc, plane) in out.iter_mut().zip(sample.chunks_exact(l)) {
                        *acc = acc.clone() + lane_sum(l, |i| plane[i].clone());
                    }
                }
            },
        );
        out
    }

    /// For sample `n` and group `g`: the weight as a `Cg × (Og·kH·kW)` matrix (entry
    /// `(c, (o, a, β))` is `w[g·Og + o, c, a, β]`) and the matrix `(Og·kH·kW) × (H·W)` of `δ`
    /// that the transposed convolution reads (entry `((o, a, β), (y, x))` is
    /// `δ[n, g·Og + o, i, j]` for the output position `(i, j)` whose tap `(a, β)` reads input
    /// `(y, x)`, and 0 if there is none): their product is the input gradient of the sample and
    /// group.
    fn transposed_matrices<R: Element + Copy>(
        &self,
        w: &[R],
        seed: &[R],
        n: usize,
        g: usize,
    ) -> (Vec<R>, Vec<R>) {
        let (cg, og, taps, plane) = (self.cg(), self.og(), self.taps(), self.plane());
        let [_, w_in] = self.in_size;
        let [_, ow] = self.out_size;
        let l = self.positions();
        let mut a = Vec::with_capacity(cg * og * taps);
        for c in 0..cg {
            for o in 0..og {
                let at = ((g * og + o) * cg + c) * taps;
                a.extend_from_slice(&w[at..at + taps]);
            }
        }
        let mut b = vec![R::zero(); og * taps * plane];
        for o in 0..og {
            let d = &seed[(n * self.out_channels + g * og + o) * l..][..l];
            for ka in 0..self.kernel[0] {
                for kb in 0..self.kernel[1] {
                    let row = &mut b[((o * self.kernel[0] + ka) * self.kernel[1] + kb) * plane..]
                        [..plane];
                    for i in self.valid(0, ka) {
                        let iy = i * self.stride[0] + ka * self.dilation[0] - self.padding[0];
                        for j in self.valid(1, kb) {
                            let ix = j * self.stride[1] + kb * self.dilation[1] - self.padding[1];
                            row[iy * w_in + ix] = d[i * ow + j];
                        }
                    }
                }
            }
        }
        (a, b)
    }
}

/// Sets every entry of `s` to zero (no call at all when `s` is empty, the unpadded case).
#[inline(always)]
fn fill_zero<A: Element>(s: &mut [A]) {
    if !s.is_empty() {
        s.fill(A::zero());
    }
}

/// `dst ← src` (equal lengths) for the short rows of an im2col matrix: blocks of 8 entries of
/// a fixed size, which the compiler turns into a few vector moves instead of a call to
/// `memmove` per row, then the rest one by one.
#[inline(always)]
fn copy_short<A: Clone>(dst: &mut [A], src: &[A]) {
    let mut d = dst.chunks_exact_mut(8);
    let mut s = src.chunks_exact(8);
    for (d, s) in d.by_ref().zip(s.by_ref()) {
        let d: &mut [A; 8] = d.try_into().expect("a block of 8");
        let s: &[A; 8] = s.try_into().expect("a block of 8");
        *d = s.clone();
    }
    for (d, s) in d.into_remainder().iter_mut().zip(s.remainder()) {
        *d = s.clone();
    }
}

/// The valid output rows of every kernel row and the valid output columns of every kernel
/// column of a [`ConvGeometry`] ([`ConvGeometry::tap_ranges`]).
struct TapRanges {
    rows: SmallVec<[Range<usize>; 8]>,
    cols: SmallVec<[Range<usize>; 8]>,
}

// ---------------------------------------------------------------------------------------------
// Convolution.

/// Parameters `Self` that apply to an input of shape `X` and a weight of shape `K`: the output
/// and bias shapes and the sizes of the convolution. Implemented by [`Conv2dParams`] for
/// `X = [N, C, H, W]`, `K = [O, C / G, kH, kW]` and by [`Conv1dParams`] for `X = [N, C, L]`,
/// `K = [O, C / G, k]`, when the kernel fits and the groups divide the channels (a bound for
/// code generic over the shapes: `P: ConvSpec<X, K>`).
#[diagnostic::on_unimplemented(
    message = "the convolution parameters `{Self}` do not apply to an input `{X}` and a weight `{K}`",
    label = "not a convolution of these shapes",
    note = "conv2d takes an input [N, C, H, W], a weight [O, C / groups, kH, kW] and `Conv2dParams`; conv1d an input [N, C, L], a weight [O, C / groups, k] and `Conv1dParams`"
)]
pub trait ConvSpec<X, K>: Copy + Send + Sync + 'static {
    /// The output shape `[N, O, OH, OW]` (`[N, O, OL]` in 1-d).
    type Out: Shape;
    /// The bias shape, `Vector<O>`.
    type Bias: Shape;
    /// The sizes.
    const GEOMETRY: ConvGeometry;
    /// The op's name (`"conv2d"`, `"conv1d"`).
    const NAME: &'static str;
}

/// `[N, O, OH, OW]`.
type Out2d<
    const N: usize,
    const O: usize,
    const H: usize,
    const W: usize,
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    const PH: usize,
    const PW: usize,
    const DH: usize,
    const DW: usize,
> = Dim<N, Dim<O, ConvDim<H, KH, SH, PH, DH, ConvDim<W, KW, SW, PW, DW>>>>;

impl<
    const N: usize,
    const C: usize,
    const H: usize,
    const W: usize,
    const O: usize,
    const CG: usize,
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    const PH: usize,
    const PW: usize,
    const DH: usize,
    const DW: usize,
    const G: usize,
> ConvSpec<Nchw<N, C, H, W>, Nchw<O, CG, KH, KW>> for Conv2dParams<SH, SW, PH, PW, DH, DW, G>
where
    Const<C>: ToUInt,
    Const<CG>: ToUInt,
    Const<O>: ToUInt,
    Const<G>: ToUInt,
    U<G>: PositiveT + Max<U1>,
    U<CG>: Mul<U<G>>,
    Prod<U<CG>, U<G>>: EqT<U<C>>,
    U<O>: Rem<AtLeast1<G>>,
    Mod<U<O>, AtLeast1<G>>: EqT<U0>,
    GroupsOk<C, CG, O, G>: GroupsDivideChannels<C, CG, O, G>,
    Conv: ConvOutput<H, KH, SH, PH, DH> + ConvOutput<W, KW, SW, PW, DW>,
    Vector<O>: Shape,
    Out2d<N, O, H, W, KH, KW, SH, SW, PH, PW, DH, DW>: Shape,
{
    type Out = Out2d<N, O, H, W, KH, KW, SH, SW, PH, PW, DH, DW>;
    type Bias = Vector<O>;
    const GEOMETRY: ConvGeometry = ConvGeometry {
        batch: N,
        in_channels: C,
        in_size: [H, W],
        out_channels: O,
        groups: G,
        kernel: [KH, KW],
        stride: [SH, SW],
        padding: [PH, PW],
        dilation: [DH, DW],
        out_size: [
            <Conv as ConvOutput<H, KH, SH, PH, DH>>::LEN,
            <Conv as ConvOutput<W, KW, SW, PW, DW>>::LEN,
        ],
    };
    const NAME: &'static str = "conv2d";
}

impl<
    const N: usize,
    const C: usize,
    const L: usize,
    const O: usize,
    const CG: usize,
    const K: usize,
    const S: usize,
    const P: usize,
    const D: usize,
    const G: usize,
> ConvSpec<Dim<N, Dim<C, Vector<L>>>, Dim<O, Dim<CG, Vector<K>>>> for Conv1dParams<S, P, D, G>
where
    Const<C>: ToUInt,
    Const<CG>: ToUInt,
    Const<O>: ToUInt,
    Const<G>: ToUInt,
    U<G>: PositiveT + Max<U1>,
    U<CG>: Mul<U<G>>,
    Prod<U<CG>, U<G>>: EqT<U<C>>,
    U<O>: Rem<AtLeast1<G>>,
    Mod<U<O>, AtLeast1<G>>: EqT<U0>,
    GroupsOk<C, CG, O, G>: GroupsDivideChannels<C, CG, O, G>,
    Conv: ConvOutput<L, K, S, P, D>,
    Vector<O>: Shape,
    Dim<N, Dim<O, ConvDim<L, K, S, P, D>>>: Shape,
{
    type Out = Dim<N, Dim<O, ConvDim<L, K, S, P, D>>>;
    type Bias = Vector<O>;
    const GEOMETRY: ConvGeometry = ConvGeometry {
        batch: N,
        in_channels: C,
        in_size: [1, L],
        out_channels: O,
        groups: G,
        kernel: [1, K],
        stride: [1, S],
        padding: [0, P],
        dilation: [1, D],
        out_size: [1, <Conv as ConvOutput<L, K, S, P, D>>::LEN],
    };
    const NAME: &'static str = "conv1d";
}

/// The op `y = conv(x, w) + b` for an input `X`, a weight `K` and parameters `P`
/// ([`conv2d`], [`conv1d`]).
#[derive(Debug)]
pub struct Convolution<X, K, P> {
    x: Slot<X>,
    w: Slot<K>,
    b: usize,
    params: PhantomData<fn() -> P>,
}

impl<X, K, P> Clone for Convolution<X, K, P> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<X, K, P> Copy for Convolution<X, K, P> {}

/// The positions `slots`, each once (aliased operands read one slot).
fn distinct(slots: &[usize]) -> SmallVec<[usize; 4]> {
    let mut out = SmallVec::new();
    for &p in slots {
        if !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

impl<X: Shape, K: Shape, P: ConvSpec<X, K>> Convolution<X, K, P> {
    fn bias(&self) -> Slot<P::Bias> {
        Slot::new(self.b)
    }
}

impl<X: Shape, K: Shape, P: ConvSpec<X, K>> Op for Convolution<X, K, P> {
    type Out = P::Out;
    fn name(&self) -> &str {
        P::NAME
    }
    fn reads(&self) -> SmallVec<[usize; 4]> {
        distinct(&[self.x.pos(), self.w.pos(), self.b])
    }

    /// The a-priori bound on every group's `W_g · cols_g` (input errors plus `γ_k·|W||cols|`,
    /// `k = Cg·kH·kW`, any summation order), plus the bias error and the rounding of the bias
    /// addition.
    fn bound<R: RuntimeFloat>(
        &self,
        eps: SlotBounds<'_>,
        x: Operands<'_, R>,
        y: &[R],
    ) -> Option<f64> {
        let geo = P::GEOMETRY;
        let (xv, wv, bv) = (x.get(self.x), x.get(self.w), x.get(self.bias()));
        let (xs, ws) = (xv.as_slice(), wv.as_slice());
        if !(R::all_finite(xs) && R::all_finite(ws) && R::all_finite(bv.as_slice())) {
            return Some(f64::INFINITY);
        }
        let (og, k, cols_n) = (geo.og(), geo.patch(), geo.columns());
        let mut e = 0.0f64;
        for g in 0..geo.groups {
            let cols = geo.im2col(xs, g);
            let wg = &ws[g * og * k..(g + 1) * og * k];
            e = e.max(gemm_bound(
                wg,
                false,
                eps.get(self.w),
                &cols,
                false,
                eps.get(self.x),
                og,
                k,
                cols_n,
            ));
        }
        Some(add_up(add_up(e, eps.get(self.bias())), add_rounding(y)))
    }

    /// The a-priori bounds on `w̄_g = δ_g cols_gᵀ` (inner dimension `N·OH·OW`), `b̄ = δ 𝟙`, and
    /// `x̄`, the product of the weight and the transposed convolution's matrix of `δ` (see the
    /// module docs); when `x` and `w` are one slot, both plus the rounding of their sum.
    fn vjp_bound<R: RuntimeFloat>(
        &self,
        eps: SlotBounds<'_>,
        x: Operands<'_, R>,
        e_seed: f64,
        seed: &[R],
        c: &Pullback<R>,
    ) -> Option<VjpBounds> {
        let geo = P::GEOMETRY;
        let (xv, wv) = (x.get(self.x), x.get(self.w));
        let (xs, ws) = (xv.as_slice(), wv.as_slice());
        let (ex_in, ew_in) = (eps.get(self.x), eps.get(self.w));
        if !(R::all_finite(xs) && R::all_finite(ws) && R::all_finite(seed)) {
            let inf = f64::INFINITY;
            return Some(
                VjpBounds::none()
                    .with(self.x, inf)
                    .with(self.w, inf)
                    .with(self.bias(), inf),
            );
        }
        let (cg, og, taps, k, cols_n) =
            (geo.cg(), geo.og(), geo.taps(), geo.patch(), geo.columns());
        let mut ew = 0.0f64;
        let mut ex = 0.0f64;
        for g in 0..geo.groups {
            let d = geo.seed_rows(seed, g);
            let cols = geo.im2col(xs, g);
            ew = ew.max(gemm_bound(
                &d, false, e_seed, &cols, true, ex_in, og, cols_n, k,
            ));
            for n in 0..geo.batch {
                let (a, b) = geo.transposed_matrices(ws, seed, n, g);
                ex = ex.max(gemm_bound(
                    &a,
                    false,
                    ew_in,
                    &b,
                    false,
                    e_seed,
                    cg,
                    og * taps,
                    geo.plane(),
                ));
            }
        }
        let rows: Vec<R> = (0..geo.groups)
            .flat_map(|g| geo.seed_rows(seed, g))
            .collect();
        let ones = vec![R::one(); cols_n];
        let eb = gemm_bound(
            &rows,
            false,
            e_seed,
            &ones,
            false,
            0.0,
            geo.out_channels,
            cols_n,
            1,
        );
        let bounds = if self.x.pos() == self.w.pos() {
            // x and w alias: the slot receives x̄ ⊕ w̄, so both errors plus the rounding of
            // that sum, written once.
            let sum = c.get(self.x).map_or(0.0, |t| add_rounding(t.as_slice()));
            VjpBounds::none().with(self.x, add_up(add_up(ex, ew), sum))
        } else {
            VjpBounds::none().with(self.x, ex).with(self.w, ew)
        };
        Some(bounds.with(self.bias(), eb))
    }
}

impl<A: Element, D, X: Shape, K: Shape, P: ConvSpec<X, K>> Eval<A, D> for Convolution<X, K, P> {
    fn forward(&self, x: Operands<'_, A>, _: &D) -> Tensor<A, P::Out> {
        let (xv, wv, bv) = (x.get(self.x), x.get(self.w), x.get(self.bias()));
        Tensor::from_vec_unchecked(
            P::GEOMETRY.correlate(&[(xv.as_slice(), wv.as_slice())], Some(bv.as_slice())),
        )
    }
    fn jvp(&self, x: Operands<'_, A>, dx: Operands<'_, A>, _: &D) -> Tensor<A, P::Out> {
        let (xv, wv) = (x.get(self.x), x.get(self.w));
        let (dxv, dwv, dbv) = (dx.get(self.x), dx.get(self.w), dx.get(self.bias()));
        Tensor::from_vec_unchecked(P::GEOMETRY.correlate(
            &[
                (dxv.as_slice(), wv.as_slice()),
                (xv.as_slice(), dwv.as_slice()),
            ],
            Some(dbv.as_slice()),
        ))
    }
    fn vjp(&self, x: Operands<'_, A>, _: &D, seed: &Tensor<A, P::Out>) -> Pullback<A> {
        let geo = P::GEOMETRY;
        let d = seed.as_slice();
        Pullback::none()
            .with_if(x, self.x, || {
                Tensor::from_vec_unchecked(geo.input_grad(x.get(self.w).as_slice(), d))
            })
            .with_if(x, self.w, || {
                Tensor::from_vec_unchecked(geo.weight_grad(x.get(self.x).as_slice(), d))
            })
            .with_if(x, self.bias(), || {
                Tensor::from_vec_unchecked(geo.bias_grad(d))
            })
    }
}

/// The 2-d convolution `y = conv2d(x, w) + b` (PyTorch's `F.conv2d(x, w, b, stride, padding,
/// dilation, groups)`, a cross-correlation): input `[N, C, H, W]`, weight `[O, C / G, kH, kW]`,
/// bias `Vector<O>`, output `[N, O, OH, OW]` with `OH = ⌊(H + 2pH − dH(kH − 1) − 1)/sH⌋ + 1`
/// (likewise `OW`), computed by the compiler. With `x̃` the input padded by zeros,
/// `y[n, o, i, j] = b[o] + Σ_{c, a, β} w[o, c, a, β] x̃[n, g(o)·C/G + c, i·sH − pH + a·dH,
/// j·sW − pW + β·dW]`, `g(o)` the group of channel `o`. JVP `conv(dx, w) + conv(x, dw) + db`;
/// VJP: for `x` the transposed convolution of `δ` with `w`, for `w` the correlation of `x̃` with
/// `δ`, for `b` the sum of `δ` over batch and positions. Polynomial: checked exactly over ℚ.
///
/// The constants are the last argument, a [`Conv2dParams`] value: start from PyTorch's defaults
/// and change what differs. Impossible combinations are compile errors that say what is wrong
/// (a kernel larger than the padded input; groups that do not divide the channels,
/// [`GroupsDivideChannels`]).
///
/// ```
/// use shapetape::autograd::GraphData;
/// use shapetape::ops::{self, Conv2dParams, Nchw};
/// use shapetape::prelude::*;
/// # fn out<G, K: shapetape::autograd::Op>(_: &shapetape::autograd::OpNode<G, K>) -> Vec<usize> {
/// #     K::Out::dims().to_vec()
/// # }
///
/// type X = Nchw<8, 3, 32, 32>; // 8 images, 3 channels, 32×32
/// type W = Nchw<16, 3, 3, 3>; // 16 filters of 3×3 over 3 channels
/// type G = HList![X, W, Vector<16>];
/// let (x, w, b) = (Idx::<G, X>::at::<0>(), Idx::<G, W>::at::<1>(), Idx::<G, Vector<16>>::at::<2>());
/// // PyTorch's defaults (stride 1, no padding, dilation 1, one group): 30×30 outputs.
/// assert_eq!(out(&ops::conv2d(x, w, b, Conv2dParams::new())), [8, 16, 30, 30]);
/// // Stride 2 and padding 1 on both axes: 16×16.
/// let y = ops::conv2d(x, w, b, Conv2dParams::new().stride::<2>().padding::<1>());
/// assert_eq!(out(&y), [8, 16, 16, 16]);
/// // Per axis: stride (1, 2), padding (1, 0), dilation (2, 1): 30×15.
/// let p = Conv2dParams::new().stride_hw::<1, 2>().padding_hw::<1, 0>().dilation_hw::<2, 1>();
/// assert_eq!(out(&ops::conv2d(x, w, b, p)), [8, 16, 30, 15]);
/// // Depthwise: 3 groups, a weight [3, 1, 3, 3].
/// type Wd = Nchw<3, 1, 3, 3>;
/// type Gd = HList![X, Wd, Vector<3>];
/// let (x, wd, bd) = (Idx::<Gd, X>::at::<0>(), Idx::<Gd, Wd>::at::<1>(), Idx::<Gd, Vector<3>>::at::<2>());
/// let y = ops::conv2d(x, wd, bd, Conv2dParams::new().padding::<1>().groups::<3>());
/// assert_eq!(out(&y), [8, 3, 32, 32]);
///
/// // In a graph: LeNet's first layer (28×28 images, 6 filters of 5×5, padding 2), 2×2 max
/// // pooling, global average pooling to a `Matrix<4, 6>`.
/// type L = HList![Nchw<4, 1, 28, 28>, Nchw<6, 1, 5, 5>, Vector<6>];
/// let g = GraphData::<f32, (), L, _>::build(|b| {
///     let hlist_pat![x, w, bias] = b.inputs();
///     let same = Conv2dParams::new().padding::<2>();
///     let (b, y) = b.push(|c| ops::conv2d(c.idx(x), c.idx(w), c.idx(bias), same));
///     let (b, p) = b.push(|c| ops::max_pool2d(c.idx(y), ops::pool_window::<2>()));
///     let (b, _) = b.push(|c| ops::global_avg_pool2d(c.idx(p)));
///     b
/// });
/// let values = g.eval(TList::zero(), &());
/// let sizes: Vec<usize> = values.slot_slices().map(<[f32]>::len).collect();
/// assert_eq!(sizes, [4 * 28 * 28, 6 * 25, 6, 4 * 6 * 28 * 28, 4 * 6 * 14 * 14, 4 * 6]);
/// ```
///
/// Implemented with im2col and one [`Element::gemm`] per sample and group for the forward
/// pass, the weight gradient and the input gradient; certified graphs use the closed-form
/// dot-product bounds of [`Convolution`].
#[must_use]
pub fn conv2d<
    G: ShapeList,
    X: Shape,
    K: Shape,
    const SH: usize,
    const SW: usize,
    const PH: usize,
    const PW: usize,
    const DH: usize,
    const DW: usize,
    const GR: usize,
>(
    x: Idx<G, X>,
    w: Idx<G, K>,
    b: Idx<G, <Conv2dParams<SH, SW, PH, PW, DH, DW, GR> as ConvSpec<X, K>>::Bias>,
    _params: Conv2dParams<SH, SW, PH, PW, DH, DW, GR>,
) -> OpNode<G, Convolution<X, K, Conv2dParams<SH, SW, PH, PW, DH, DW, GR>>>
where
    Conv2dParams<SH, SW, PH, PW, DH, DW, GR>: ConvSpec<X, K>,
{
    op_node!(Convolution {
        x: Slot::new(x.pos),
        w: Slot::new(w.pos),
        b: b.pos,
        params: PhantomData,
    })
}

/// The 1-d convolution `y = conv1d(x, w) + b` (PyTorch's `F.conv1d`): input `[N, C, L]`,
/// weight `[O, C / G, k]`, bias `Vector<O>`, output `[N, O, ⌊(L + 2p − d(k − 1) − 1)/s⌋ + 1]`,
/// the constants a [`Conv1dParams`] value. The same maps and derivatives as [`conv2d`] with a
/// height of 1.
///
/// ```
/// use shapetape::ops::{self, Conv1dParams};
/// use shapetape::prelude::*;
/// # fn out<G, K: shapetape::autograd::Op>(_: &shapetape::autograd::OpNode<G, K>) -> Vec<usize> {
/// #     K::Out::dims().to_vec()
/// # }
///
/// type X = Dim<2, Matrix<4, 10>>; // 2 sequences of 4 channels, length 10
/// type W = Dim<6, Matrix<2, 3>>; // 6 filters of 3 taps over 4 / 2 channels
/// type G = HList![X, W, Vector<6>];
/// let (x, w, b) = (Idx::<G, X>::at::<0>(), Idx::<G, W>::at::<1>(), Idx::<G, Vector<6>>::at::<2>());
/// // 2 groups, dilation 2: (10 − 2·2 − 1) + 1 = 6 positions.
/// let y = ops::conv1d(x, w, b, Conv1dParams::new().groups::<2>().dilation::<2>());
/// assert_eq!(out(&y), [2, 6, 6]);
/// ```
#[must_use]
pub fn conv1d<
    G: ShapeList,
    X: Shape,
    K: Shape,
    const S: usize,
    const P: usize,
    const D: usize,
    const GR: usize,
>(
    x: Idx<G, X>,
    w: Idx<G, K>,
    b: Idx<G, <Conv1dParams<S, P, D, GR> as ConvSpec<X, K>>::Bias>,
    _params: Conv1dParams<S, P, D, GR>,
) -> OpNode<G, Convolution<X, K, Conv1dParams<S, P, D, GR>>>
where
    Conv1dParams<S, P, D, GR>: ConvSpec<X, K>,
{
    op_node!(Convolution {
        x: Slot::new(x.pos),
        w: Slot::new(w.pos),
        b: b.pos,
        params: PhantomData,
    })
}

// ---------------------------------------------------------------------------------------------
// Pooling.

/// Parameters `Self` that apply to an input of shape `X`: the output shape and the window
/// sizes. Implemented by [`Pool2dParams`] for `X = [N, C, H, W]` when the window fits and the
/// padding is at most half of it.
#[diagnostic::on_unimplemented(
    message = "the pooling parameters `{Self}` do not apply to an input `{X}`",
    label = "not a pooling of this shape",
    note = "max_pool2d and avg_pool2d take an input [N, C, H, W] and `Pool2dParams` (made by `ops::pool_window`)"
)]
pub trait PoolSpec<X>: Copy + Send + Sync + 'static {
    /// The output shape `[N, C, OH, OW]`.
    type Out: Shape;
    /// The sizes (`out_channels = groups = C`, dilation 1).
    const GEOMETRY: ConvGeometry;
}

impl<
    const N: usize,
    const C: usize,
    const H: usize,
    const W: usize,
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    const PH: usize,
    const PW: usize,
> PoolSpec<Nchw<N, C, H, W>> for Pool2dParams<KH, KW, SH, SW, PH, PW>
where
    Const<KH>: ToUInt,
    Const<KW>: ToUInt,
    Const<PH>: ToUInt,
    Const<PW>: ToUInt,
    U<PH>: Add<U<PH>>,
    U<PW>: Add<U<PW>>,
    Sum<U<PH>, U<PH>>: LeT<U<KH>>,
    Sum<U<PW>, U<PW>>: LeT<U<KW>>,
    HalfOk<KH, PH>: PoolPaddingAtMostHalf<KH, PH>,
    HalfOk<KW, PW>: PoolPaddingAtMostHalf<KW, PW>,
    Conv: ConvOutput<H, KH, SH, PH, 1> + ConvOutput<W, KW, SW, PW, 1>,
    Out2d<N, C, H, W, KH, KW, SH, SW, PH, PW, 1, 1>: Shape,
{
    type Out = Out2d<N, C, H, W, KH, KW, SH, SW, PH, PW, 1, 1>;
    const GEOMETRY: ConvGeometry = ConvGeometry {
        batch: N,
        in_channels: C,
        in_size: [H, W],
        out_channels: C,
        groups: C,
        kernel: [KH, KW],
        stride: [SH, SW],
        padding: [PH, PW],
        dilation: [1, 1],
        out_size: [
            <Conv as ConvOutput<H, KH, SH, PH, 1>>::LEN,
            <Conv as ConvOutput<W, KW, SW, PW, 1>>::LEN,
        ],
    };
}

/// Which pooling ([`Pool2d`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolKind {
    /// The maximum of the window, the gradient to its first maximal entry.
    Max,
    /// The sum of the window over `kH·kW` (padding counted).
    Avg,
}

/// The op pooling every window of an input `X` with parameters `P` ([`max_pool2d`],
/// [`avg_pool2d`]).
#[derive(Debug)]
pub struct Pool2d<X, P> {
    x: Slot<X>,
    kind: PoolKind,
    params: PhantomData<fn() -> P>,
}

impl<X, P> Clone for Pool2d<X, P> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<X, P> Copy for Pool2d<X, P> {}

/// Calls `f(out, window)` for every output entry `out` of a pooling geometry (row-major over
/// `N × C × OH × OW`), with the input positions of its window in row-major order, the padding
/// left out.
fn for_each_window(geo: &ConvGeometry, mut f: impl FnMut(usize, &[usize])) {
    let [h, w] = geo.in_size;
    let [oh, ow] = geo.out_size;
    let mut window = Vec::with_capacity(geo.taps());
    for plane in 0..geo.batch * geo.in_channels {
        for i in 0..oh {
            for j in 0..ow {
                window.clear();
                for a in 0..geo.kernel[0] {
                    let Some(iy) = geo.source(0, i, a) else {
                        continue;
                    };
                    for b in 0..geo.kernel[1] {
                        if let Some(ix) = geo.source(1, j, b) {
                            window.push((plane * h + iy) * w + ix);
                        }
                    }
                }
                f((plane * oh + i) * ow + j, &window);
            }
        }
    }
}

/// The maximum of `v` (non-empty) and the indicator of its first maximal entry,
/// `t_j = H(v_j − max_{i<j} v_i) · (1 − H(max_{i>j} v_i − v_j))` (`H(0) = 0`; a missing side
/// counts 1): 1 exactly at the first `j` with `v_j` maximal. Written with steps and `elem_max`
/// so that intervals cover every routing.
fn first_max<A: Element>(v: &[A], weights: &mut Vec<A>) -> A {
    let n = v.len();
    // First weights[j] = max_{i > j} v_i (for j < n − 1), then the weights in place.
    weights.clear();
    weights.resize(n, A::zero());
    for j in (0..n.saturating_sub(1)).rev() {
        weights[j] = if j + 2 < n {
            weights[j + 1].elem_max(&v[j + 1])
        } else {
            v[j + 1].clone()
        };
    }
    let mut before: Option<A> = None;
    for (j, x) in v.iter().enumerate() {
        let left = match &before {
            None => A::one(),
            Some(m) => (x.clone() - m.clone()).heaviside(),
        };
        let right = if j + 1 < n {
            A::one() - (weights[j].clone() - x.clone()).heaviside()
        } else {
            A::one()
        };
        weights[j] = left * right;
        before = Some(match before {
            None => x.clone(),
            Some(m) => m.elem_max(x),
        });
    }
    before.unwrap_or_else(A::zero)
}

impl<X: Shape, P: PoolSpec<X>> Op for Pool2d<X, P> {
    type Out = P::Out;
    fn name(&self) -> &str {
        match self.kind {
            PoolKind::Max => "max_pool2d",
            PoolKind::Avg => "avg_pool2d",
        }
    }
    fn reads(&self) -> SmallVec<[usize; 4]> {
        distinct(&[self.x.pos()])
    }
}

impl<X: Shape, P: PoolSpec<X>> Pool2d<X, P> {
    /// `Σ_j t_j dx_j` over every window, `t` the pooling's weights at `x` (the JVP; with
    /// `dx = x` for average pooling, the forward pass).
    fn linearised<A: Element>(&self, x: &[A], dx: &[A]) -> Vec<A> {
        let geo = P::GEOMETRY;
        let mut y = vec![A::zero(); P::Out::SIZE];
        let mut vals = Vec::new();
        let mut t = Vec::new();
        let count = A::from_i64(geo.taps() as i64);
        for_each_window(&geo, |out, window| {
            y[out] = match self.kind {
                PoolKind::Avg => {
                    let s = window.iter().fold(A::zero(), |acc, &p| acc + dx[p].clone());
                    s / count.clone()
                }
                PoolKind::Max => {
                    vals.clear();
                    vals.extend(window.iter().map(|&p| x[p].clone()));
                    first_max(&vals, &mut t);
                    window
                        .iter()
                        .zip(&t)
                        .fold(A::zero(), |acc, (&p, w)| acc + w.clone() * dx[p].clone())
                }
            };
        });
        y
    }
}

impl<A: Element, D, X: Shape, P: PoolSpec<X>> Eval<A, D> for Pool2d<X, P> {
    fn forward(&self, x: Operands<'_, A>, _: &D) -> Tensor<A, P::Out> {
        let xv = x.get(self.x);
        let xs = xv.as_slice();
        match self.kind {
            PoolKind::Avg => Tensor::from_vec_unchecked(self.linearised(xs, xs)),
            PoolKind::Max => {
                let mut y = vec![A::zero(); P::Out::SIZE];
                for_each_window(&P::GEOMETRY, |out, window| {
                    let mut it = window.iter().map(|&p| &xs[p]);
                    if let Some(first) = it.next() {
                        y[out] = it.fold(first.clone(), |m, v| m.elem_max(v));
                    }
                });
                Tensor::from_vec_unchecked(y)
            }
        }
    }
    fn jvp(&self, x: Operands<'_, A>, dx: Operands<'_, A>, _: &D) -> Tensor<A, P::Out> {
        Tensor::from_vec_unchecked(
            self.linearised(x.get(self.x).as_slice(), dx.get(self.x).as_slice()),
        )
    }
    fn vjp(&self, x: Operands<'_, A>, _: &D, seed: &Tensor<A, P::Out>) -> Pullback<A> {
        let geo = P::GEOMETRY;
        let xv = x.get(self.x);
        let xs = xv.as_slice();
        let d = seed.as_slice();
        let mut g = vec![A::zero(); X::SIZE];
        let mut vals = Vec::new();
        let mut t = Vec::new();
        let count = A::from_i64(geo.taps() as i64);
        for_each_window(&geo, |out, window| match self.kind {
            PoolKind::Avg => {
                let share = d[out].clone() / count.clone();
                for &p in window {
                    g[p] = g[p].clone() + share.clone();
                }
            }
            PoolKind::Max => {
                vals.clear();
                vals.extend(window.iter().map(|&p| xs[p].clone()));
                first_max(&vals, &mut t);
                for (&p, w) in window.iter().zip(&t) {
                    g[p] = g[p].clone() + w.clone() * d[out].clone();
                }
            }
        });
        Pullback::single(self.x, Tensor::from_vec_unchecked(g))
    }
}

/// 2-d max pooling (PyTorch's `F.max_pool2d(x, kernel_size, stride, padding)`): the maximum of
/// every window of an `[N, C, H, W]` input, the padding never chosen (PyTorch pads with `−∞`).
/// JVP and VJP go through the **first** maximal entry of each window in row-major order, the
/// index PyTorch returns: on a tie the earliest entry receives the whole gradient. Piecewise
/// linear (checked exactly over ℚ). The window is a [`Pool2dParams`] value made by
/// [`pool_window`]; the padding must be at most half the window ([`PoolPaddingAtMostHalf`]).
///
/// ```
/// use shapetape::ops::{self, AdaptiveSize, Nchw};
/// use shapetape::prelude::*;
/// # fn out<G, K: shapetape::autograd::Op>(_: &shapetape::autograd::OpNode<G, K>) -> Vec<usize> {
/// #     K::Out::dims().to_vec()
/// # }
///
/// type G = HList![Nchw<8, 3, 32, 32>];
/// let x = Idx::<G, Nchw<8, 3, 32, 32>>::at::<0>();
/// // 2×2 windows with PyTorch's default stride (the window): 16×16.
/// assert_eq!(out(&ops::max_pool2d(x, ops::pool_window::<2>())), [8, 3, 16, 16]);
/// // 3×3 windows, stride 2, padding 1 (average: the padded zeros are counted, PyTorch's
/// // default `count_include_pad=True`).
/// let q = ops::avg_pool2d(x, ops::pool_window::<3>().stride::<2>().padding::<1>());
/// assert_eq!(out(&q), [8, 3, 16, 16]);
/// // A 2×3 window with stride (2, 1).
/// let r = ops::max_pool2d(x, ops::pool_window_hw::<2, 3>().stride_hw::<2, 1>());
/// assert_eq!(out(&r), [8, 3, 16, 30]);
/// // Adaptive average pooling to 5×5, and global average pooling to `Matrix<8, 3>`.
/// assert_eq!(out(&ops::adaptive_avg_pool2d(x, AdaptiveSize::<5, 5>)), [8, 3, 5, 5]);
/// assert_eq!(out(&ops::global_avg_pool2d(x)), [8, 3]);
/// ```
#[must_use]
pub fn max_pool2d<
    G: ShapeList,
    X: Shape,
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    const PH: usize,
    const PW: usize,
>(
    x: Idx<G, X>,
    _params: Pool2dParams<KH, KW, SH, SW, PH, PW>,
) -> OpNode<G, Pool2d<X, Pool2dParams<KH, KW, SH, SW, PH, PW>>>
where
    Pool2dParams<KH, KW, SH, SW, PH, PW>: PoolSpec<X>,
{
    op_node!(Pool2d {
        x: Slot::new(x.pos),
        kind: PoolKind::Max,
        params: PhantomData,
    })
}

/// 2-d average pooling (PyTorch's `F.avg_pool2d(x, kernel_size, stride, padding)` with its
/// default `count_include_pad=True`): every window's sum divided by `kH·kW`, the padded zeros
/// counted; `ops::avg_pool2d(x, ops::pool_window::<2>())`. Linear: JVP the same pooling of
/// `dx`, VJP `δ / (kH·kW)` spread over each window.
#[must_use]
pub fn avg_pool2d<
    G: ShapeList,
    X: Shape,
    const KH: usize,
    const KW: usize,
    const SH: usize,
    const SW: usize,
    const PH: usize,
    const PW: usize,
>(
    x: Idx<G, X>,
    _params: Pool2dParams<KH, KW, SH, SW, PH, PW>,
) -> OpNode<G, Pool2d<X, Pool2dParams<KH, KW, SH, SW, PH, PW>>>
where
    Pool2dParams<KH, KW, SH, SW, PH, PW>: PoolSpec<X>,
{
    op_node!(Pool2d {
        x: Slot::new(x.pos),
        kind: PoolKind::Avg,
        params: PhantomData,
    })
}

// ---------------------------------------------------------------------------------------------
// Adaptive and global average pooling.

/// The op averaging the regions of PyTorch's adaptive pooling of an input `X` into the output
/// `Y` ([`adaptive_avg_pool2d`]: `Y = [N, C, OH, OW]`; [`global_avg_pool2d`]: `Y = [N, C]`,
/// the `1×1` case).
#[derive(Debug)]
pub struct AdaptiveAvgPool2d<X, Y> {
    x: Slot<X>,
    out: [usize; 2],
    global: bool,
    shape: PhantomData<fn() -> Y>,
}

impl<X, Y> Clone for AdaptiveAvgPool2d<X, Y> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<X, Y> Copy for AdaptiveAvgPool2d<X, Y> {}

/// `⌊i·n/m⌋..⌈(i + 1)·n/m⌉`, PyTorch's region of output `i` of `m` over an axis of `n`.
fn region(i: usize, n: usize, m: usize) -> Range<usize> {
    let m = m.max(1);
    (i * n / m)..((i + 1) * n).div_ceil(m)
}

impl<X: Shape, Y: Shape> AdaptiveAvgPool2d<X, Y> {
    /// Calls `f(out, region, count)` for every output entry with the input positions of its
    /// region (row-major) and their number.
    fn regions(&self, mut f: impl FnMut(usize, &[usize], usize)) {
        let dims = X::dims();
        let (planes, h, w) = (dims[0] * dims[1], dims[2], dims[3]);
        let [oh, ow] = self.out;
        let mut cells = Vec::new();
        for plane in 0..planes {
            for i in 0..oh {
                for j in 0..ow {
                    cells.clear();
                    for y in region(i, h, oh) {
                        for x in region(j, w, ow) {
                            cells.push((plane * h + y) * w + x);
                        }
                    }
                    f((plane * oh + i) * ow + j, &cells, cells.len().max(1));
                }
            }
        }
    }

    /// The averages of `x` over the regions.
    fn pool<A: Element>(&self, x: &[A]) -> Vec<A> {
        let mut y = vec![A::zero(); Y::SIZE];
        self.regions(|out, cells, count| {
            let s = cells.iter().fold(A::zero(), |acc, &p| acc + x[p].clone());
            y[out] = s / A::from_i64(count as i64);
        });
        y
    }
}

impl<X: Shape, Y: Shape> Op for AdaptiveAvgPool2d<X, Y> {
    type Out = Y;
    fn name(&self) -> &str {
        if self.global {
            "global_avg_pool2d"
        } else {
            "adaptive_avg_pool2d"
        }
    }
    fn reads(&self) -> SmallVec<[usize; 4]> {
        distinct(&[self.x.pos()])
    }
}

impl<A: Element, D, X: Shape, Y: Shape> Eval<A, D> for AdaptiveAvgPool2d<X, Y> {
    fn forward(&self, x: Operands<'_, A>, _: &D) -> Tensor<A, Y> {
        Tensor::from_vec_unchecked(self.pool(x.get(self.x).as_slice()))
    }
    fn jvp(&self, _: Operands<'_, A>, dx: Operands<'_, A>, _: &D) -> Tensor<A, Y> {
        Tensor::from_vec_unchecked(self.pool(dx.get(self.x).as_slice()))
    }
    fn vjp(&self, _: Operands<'_, A>, _: &D, seed: &Tensor<A, Y>) -> Pullback<A> {
        let d = seed.as_slice();
        let mut g = vec![A::zero(); X::SIZE];
        self.regions(|out, cells, count| {
            let share = d[out].clone() / A::from_i64(count as i64);
            for &p in cells {
                g[p] = g[p].clone() + share.clone();
            }
        });
        Pullback::single(self.x, Tensor::from_vec_unchecked(g))
    }
}

/// Adaptive average pooling to `OH × OW` (PyTorch's `F.adaptive_avg_pool2d(x, (OH, OW))`):
/// output `(i, j)` of an `[N, C, H, W]` input is the mean of rows `⌊iH/OH⌋..⌈(i + 1)H/OH⌉` and
/// columns `⌊jW/OW⌋..⌈(j + 1)W/OW⌉` (regions overlap when the sizes do not divide);
/// `ops::adaptive_avg_pool2d(x, AdaptiveSize::<1, 1>)`. Linear: JVP the same pooling of `dx`,
/// VJP each `δ` spread evenly over its region.
#[must_use]
pub fn adaptive_avg_pool2d<
    G: ShapeList,
    const N: usize,
    const C: usize,
    const H: usize,
    const W: usize,
    const OH: usize,
    const OW: usize,
>(
    x: Idx<G, Nchw<N, C, H, W>>,
    _size: AdaptiveSize<OH, OW>,
) -> OpNode<G, AdaptiveAvgPool2d<Nchw<N, C, H, W>, Nchw<N, C, OH, OW>>>
where
    Nchw<N, C, H, W>: Shape,
    Nchw<N, C, OH, OW>: Shape,
{
    op_node!(AdaptiveAvgPool2d {
        x: Slot::new(x.pos),
        out: [OH, OW],
        global: false,
        shape: PhantomData,
    })
}

/// Global average pooling: the mean over `H × W` of every channel of an `[N, C, H, W]` input,
/// as a `Matrix<N, C>` (PyTorch's `F.adaptive_avg_pool2d(x, 1).flatten(1)`). Linear: VJP
/// `δ[n, c] / (H·W)` on every entry of the channel.
#[must_use]
pub fn global_avg_pool2d<
    G: ShapeList,
    const N: usize,
    const C: usize,
    const H: usize,
    const W: usize,
>(
    x: Idx<G, Nchw<N, C, H, W>>,
) -> OpNode<G, AdaptiveAvgPool2d<Nchw<N, C, H, W>, Matrix<N, C>>>
where
    Nchw<N, C, H, W>: Shape,
    Matrix<N, C>: Shape,
{
    op_node!(AdaptiveAvgPool2d {
        x: Slot::new(x.pos),
        out: [1, 1],
        global: true,
        shape: PhantomData,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn geo(h: usize, k: usize, s: usize, p: usize, d: usize) -> ConvGeometry {
        let out = crate::shape_arith::conv_out_len(h, k, s, p, d);
        ConvGeometry {
            batch: 1,
            in_channels: 1,
            in_size: [1, h],
            out_channels: 1,
            groups: 1,
            kernel: [1, k],
            stride: [1, s],
            padding: [0, p],
            dilation: [1, d],
            out_size: [1, out],
        }
    }

    /// The valid ranges agree with the direct test of every read index.
    #[test]
    fn valid_ranges_match_the_sources() {
        for h in 1..7 {
            for k in 1..4 {
                for s in 1..4 {
                    for p in 0..3 {
                        for d in 1..3 {
                            if crate::shape_arith::checked_conv_out_len(h, k, s, p, d).is_none() {
                                continue;
                            }
                            let g = geo(h, k, s, p, d);
                            for t in 0..k {
                                let direct: Vec<usize> = (0..g.out_size[1])
                                    .filter(|&o| g.source(1, o, t).is_some())
                                    .collect();
                                let range: Vec<usize> = g.valid(1, t).collect();
                                assert_eq!(direct, range, "h{h} k{k} s{s} p{p} d{d} t{t}");
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn first_max_takes_the_first_of_a_tie() {
        let mut t = Vec::new();
        assert_eq!(first_max(&[1.0, 3.0, 3.0, 2.0], &mut t), 3.0);
        assert_eq!(t, [0.0, 1.0, 0.0, 0.0]);
        assert_eq!(first_max(&[2.0f64, 2.0, 2.0], &mut t), 2.0);
        assert_eq!(t, [1.0, 0.0, 0.0]);
        assert_eq!(first_max(&[-1.0f64], &mut t), -1.0);
        assert_eq!(t, [1.0]);
        assert_eq!(first_max(&[0.0f64, -2.0, 5.0], &mut t), 5.0);
        assert_eq!(t, [0.0, 0.0, 1.0]);
    }

    /// On overlapping intervals both routings are possible: both weights enclose 0 and 1.
    #[test]
    fn first_max_of_intervals_covers_every_routing() {
        use crate::approx::Interval;
        let v = [
            Interval::new(1.0, 2.0),
            Interval::new(1.5, 1.6),
            Interval::new(-3.0, 0.0),
        ];
        let mut t = Vec::new();
        let m = first_max(&v, &mut t);
        assert_eq!((m.lo(), m.hi()), (1.5, 2.0));
        for w in &t[..2] {
            assert_eq!((w.lo(), w.hi()), (0.0, 1.0));
        }
        assert_eq!((t[2].lo(), t[2].hi()), (0.0, 0.0));
    }

    #[test]
    fn adaptive_regions_are_pytorchs() {
        let r: Vec<Range<usize>> = (0..3).map(|i| region(i, 5, 3)).collect();
        assert_eq!(r, [0..2, 1..4, 3..5]);
        let r: Vec<Range<usize>> = (0..2).map(|i| region(i, 4, 2)).collect();
        assert_eq!(r, [0..2, 2..4]);
        let r: Vec<Range<usize>> = (0..3).map(|i| region(i, 2, 3)).collect();
        assert_eq!(r, [0..1, 0..2, 1..2]);
    }
}
