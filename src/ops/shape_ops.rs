//! Shape ops: reshape, flatten, swapaxes, permute, concat, stack, narrow, broadcast_to.
//!
//! Every shape is checked by the compiler through the traits of
//! [`shape_arith`](crate::shape_arith), which also compute the output shapes: `concat::<0, …>`
//! of a `Vector<2>` and a `Vector<1>` is a `Vector<3>`, and an impossible request (an axis past
//! the rank, a slice past the end, sizes that differ) is a compile error that says so.
//!
//! | op | PyTorch / NumPy | output |
//! |---|---|---|
//! | [`reshape::<T, _, _>(x)`](reshape) | `x.reshape(T)` | `T`, same number of entries |
//! | [`flatten(x)`](flatten) | `x.flatten()` | `Vector<{size S}>` |
//! | [`swapaxes::<A, B, _, _>(x)`](swapaxes) | `x.transpose(A, B)`, `np.swapaxes` | axes `A`, `B` exchanged |
//! | [`permute(x, (Ax::<2>, Ax::<0>, Ax::<1>))`](permute), also `permute(x, axes![2, 0, 1])` | `x.permute(2, 0, 1)`, `np.transpose(x, axes)` | axis `k` is axis `P[k]` of `x` |
//! | [`concat::<A, _, _, _>(a, b)`](fn@concat) | `torch.cat([a, b], A)` | lengths on axis `A` added |
//! | [`stack(a, b)`](stack) | `torch.stack([a, b])` | `Dim<2, S>` |
//! | [`narrow::<A, START, LEN, _, _>(x)`](narrow) | `x.narrow(A, START, LEN)` | length `LEN` on axis `A` |
//! | [`broadcast_to::<T, _, _>(x)`](broadcast_to) | `x.broadcast_to(T)` | `T` |
//!
//! The const and shape parameters come first, so the context and operand shapes are left to
//! inference with `_` (`ops::narrow::<1, 0, 2, _, _>(x)`). The `_` cannot be dropped: a Rust
//! function call names all its generic arguments or none, and the context and operand shape
//! cannot be `impl Trait` arguments because the returned `OpNode<Γ, Op<S, …>>` names them. The
//! target of `reshape` and `broadcast_to` is also inferred from the output's expected shape
//! (`let (b, y): (_, Var<'_, Matrix<3, 2>>) = b.push(|c| ops::reshape(c.idx(x)));`).
//! [`permute`] takes its axes as a value, a tuple of [`Ax`] of any length up to 8 (a general
//! permutation; stable Rust has no variadic or array-valued const generics, so
//! `permute::<2, 0, 1>` cannot be written).
//!
//! **Mathematics.** Each op is linear and moves entries: `y = Π x` for a 0/1 matrix `Π` (a
//! gather). So the JVP is `Π dx` and the VJP is `Πᵀ δ`, which scatters `δ` back: onto distinct
//! entries for reshape, permutations, slices (zero elsewhere), concatenation and stacking, and
//! summed over the copies for a broadcast (the sum over the broadcast axes, in row-major order
//! from 0). Layouts are row-major (outermost axis first), as PyTorch's contiguous tensors; a
//! reshape reads the entries in that order, and every op returns a copy.
//!
//! Certified graphs bound these ops by the interval enclosure of this code (no closed form):
//! the copies are exact, and the broadcast VJP's sums are enclosed with outward rounding.

use core::marker::PhantomData;

use crate::autograd::op::{Eval, Op, OpNode, Operands, Pullback, Slot, op_node};
use crate::scalar::Element;
use crate::shape::{Dim, SameShape, Shape};
use crate::shape_arith::{
    AxisList, BroadcastTo, ConcatAlong, Flat, Length, NarrowAlong, PermuteAxes, SameSize, SwapAxes,
};
use crate::shape_list::ShapeList;
use crate::tensor::Tensor;
use crate::tlist::Idx;
use smallvec::SmallVec;

pub use crate::shape_arith::Ax;

use crate::autograd::op::distinct;

/// Row-major strides of `dims`: `stride[k] = Π_{j > k} dims[j]`.
fn strides(dims: &[usize]) -> Vec<usize> {
    let mut out = vec![1; dims.len()];
    for k in (0..dims.len().saturating_sub(1)).rev() {
        out[k] = out[k + 1] * dims[k + 1];
    }
    out
}

/// For every position of the output (row-major over `out_dims`), the input position
/// `offset + Σₖ iₖ · step[k]` of the entry it copies.
fn gather_map(out_dims: &[usize], step: &[usize], offset: usize) -> Vec<usize> {
    let total: usize = out_dims.iter().product();
    let mut map = Vec::with_capacity(total);
    if total == 0 {
        return map;
    }
    let mut index = vec![0usize; out_dims.len()];
    let mut pos = offset;
    for _ in 0..total {
        map.push(pos);
        // Advance the multi-index (odometer), keeping `pos` in step.
        for k in (0..out_dims.len()).rev() {
            index[k] += 1;
            pos += step[k];
            if index[k] < out_dims[k] {
                break;
            }
            pos -= step[k] * index[k];
            index[k] = 0;
        }
    }
    map
}

/// `yⱼ = x[map[j]]`.
pub(crate) fn gather<A: Clone>(x: &[A], map: &[usize]) -> Vec<A> {
    map.iter().map(|&i| x[i].clone()).collect()
}

/// The adjoint of any gather: `g[i] = Σ_{j : map[j] = i} δⱼ`, each sum from 0 in row-major
/// order of `j`.
pub(crate) fn scatter_add<A: Element>(seed: &[A], map: &[usize], len: usize) -> Vec<A> {
    let mut g = vec![A::zero(); len];
    for (d, &i) in seed.iter().zip(map) {
        g[i] = g[i].clone() + d.clone();
    }
    g
}

/// A gather `y = Π x` described by strides instead of a map: output position `j` (row-major
/// multi-index `i` over `dims`) reads input position `offset + Σₖ iₖ · step[k]`
/// ([`gather_map`] lists the same positions). Axes of length 1 are dropped and adjacent axes
/// that the input reads contiguously are merged, so the copies run over the longest contiguous
/// stretches.
#[derive(Clone, Debug)]
struct Strided {
    /// The merged output axes (at least one).
    dims: SmallVec<[usize; 8]>,
    /// The input step of each merged axis.
    step: SmallVec<[usize; 8]>,
    /// The input position of output position 0.
    offset: usize,
}

impl Strided {
    fn new(dims: &[usize], step: &[usize], offset: usize) -> Self {
        let mut d: SmallVec<[usize; 8]> = SmallVec::new();
        let mut st: SmallVec<[usize; 8]> = SmallVec::new();
        if dims.contains(&0) {
            return Strided {
                dims: smallvec::smallvec![0],
                step: smallvec::smallvec![1],
                offset,
            };
        }
        for (&n, &s) in dims.iter().zip(step) {
            if n == 1 {
                continue;
            }
            match (d.last_mut(), st.last_mut()) {
                // The previous axis steps over exactly this whole axis: one longer axis.
                (Some(pd), Some(ps)) if *ps == s * n => {
                    *pd *= n;
                    *ps = s;
                }
                _ => {
                    d.push(n);
                    st.push(s);
                }
            }
        }
        if d.is_empty() {
            d.push(1);
            st.push(1);
        }
        Strided {
            dims: d,
            step: st,
            offset,
        }
    }

    /// The number of output positions.
    fn len(&self) -> usize {
        self.dims.iter().product()
    }

    /// Calls `f(j, i)` for every run along the last axis, in row-major order: output positions
    /// `j..j + n` read input positions `i, i + s, …` (`n`, `s` the last axis's length and step).
    fn for_each_run(&self, mut f: impl FnMut(usize, usize)) {
        let total = self.len();
        let r = self.dims.len() - 1;
        let n = self.dims[r];
        if total == 0 {
            return;
        }
        let mut index: SmallVec<[usize; 8]> = smallvec::smallvec![0; r];
        let mut pos = self.offset;
        let mut j = 0;
        while j < total {
            f(j, pos);
            j += n;
            for k in (0..r).rev() {
                index[k] += 1;
                pos += self.step[k];
                if index[k] < self.dims[k] {
                    break;
                }
                pos -= self.step[k] * index[k];
                index[k] = 0;
            }
        }
    }

    /// The input position of every output position (row-major): the map of [`gather_map`].
    fn map(&self) -> Vec<usize> {
        gather_map(&self.dims, &self.step, self.offset)
    }

    /// The last axis's length and step.
    fn run(&self) -> (usize, usize) {
        let r = self.dims.len() - 1;
        (self.dims[r], self.step[r])
    }

    /// `yⱼ = x[pos(j)]` (the gather of [`gather`] without building the map).
    fn gather<A: Clone>(&self, x: &[A]) -> Vec<A> {
        let (n, s) = self.run();
        let mut out = Vec::with_capacity(self.len());
        self.for_each_run(|_, i| {
            if s == 1 {
                out.extend_from_slice(&x[i..i + n]);
            } else {
                out.extend((0..n).map(|t| x[i + t * s].clone()));
            }
        });
        out
    }

    /// The adjoint of an injective gather: `g[pos(j)] = δⱼ`, zero elsewhere.
    fn scatter<A: Element>(&self, seed: &[A], len: usize) -> Vec<A> {
        let (n, s) = self.run();
        let mut g = vec![A::zero(); len];
        self.for_each_run(|j, i| {
            let src = &seed[j..j + n];
            if s == 1 {
                g[i..i + n].clone_from_slice(src);
            } else {
                for (t, v) in src.iter().enumerate() {
                    g[i + t * s] = v.clone();
                }
            }
        });
        g
    }

    /// The adjoint of any gather: `g[i] = Σ_{j : pos(j) = i} δⱼ`, each sum from 0 in
    /// row-major order of `j` ([`scatter_add`]).
    fn scatter_add<A: Element>(&self, seed: &[A], len: usize) -> Vec<A> {
        let (n, s) = self.run();
        let mut g = vec![A::zero(); len];
        self.for_each_run(|j, i| {
            let src = &seed[j..j + n];
            if s == 1 {
                for (dst, v) in g[i..i + n].iter_mut().zip(src) {
                    *dst = dst.clone() + v.clone();
                }
            } else {
                // Step 0 (a broadcast axis) adds the whole run onto one entry, in order.
                for (t, v) in src.iter().enumerate() {
                    let at = i + t * s;
                    g[at] = g[at].clone() + v.clone();
                }
            }
        });
        g
    }
}

/// The strided gather of a permutation: output axis `k` is input axis `axes[k]`.
fn permute_strided(in_dims: &[usize], axes: &[usize]) -> Strided {
    let st = strides(in_dims);
    let out_dims: Vec<usize> = axes.iter().map(|&a| in_dims[a]).collect();
    let step: Vec<usize> = axes.iter().map(|&a| st[a]).collect();
    Strided::new(&out_dims, &step, 0)
}

// ---------------------------------------------------------------------------------------------

/// The op `y = x` read as shape `T` (row-major order kept; [`reshape`], [`flatten`]).
#[derive(Clone, Copy, Debug)]
pub struct Reshape<S, T> {
    x: Slot<S>,
    name: &'static str,
    to: PhantomData<fn() -> T>,
}

impl<S: Shape, T: Shape> Op for Reshape<S, T>
where
    S: SameSize<T>,
{
    type Out = T;
    fn name(&self) -> &str {
        self.name
    }
    fn reads(&self) -> SmallVec<[usize; 4]> {
        distinct(&[self.x.pos()])
    }
}

impl<A: Element, D, S: Shape, T: Shape> Eval<A, D> for Reshape<S, T>
where
    S: SameSize<T>,
{
    fn forward(&self, x: Operands<'_, A>, _: &D) -> Tensor<A, T> {
        Tensor::from_vec_unchecked(x.get(self.x).as_slice().to_vec())
    }
    fn jvp(&self, _: Operands<'_, A>, dx: Operands<'_, A>, _: &D) -> Tensor<A, T> {
        Tensor::from_vec_unchecked(dx.get(self.x).as_slice().to_vec())
    }
    fn vjp(&self, _: Operands<'_, A>, _: &D, seed: &Tensor<A, T>) -> Pullback<A> {
        Pullback::single(self.x, Tensor::from_vec_unchecked(seed.as_slice().to_vec()))
    }
}

/// `y = x` as a tensor of shape `T` with the same number of entries (PyTorch's `reshape`, on a
/// contiguous row-major tensor; a copy): `ops::reshape::<Matrix<3, 2>, _, _>(x)`. JVP `dx`,
/// VJP `δ`, both read in shape `S`.
#[must_use]
pub fn reshape<T: Shape, G: ShapeList, S>(x: Idx<G, S>) -> OpNode<G, Reshape<S, T>>
where
    S: SameSize<T>,
{
    op_node!(Reshape {
        x: Slot::new(x.pos),
        name: "reshape",
        to: PhantomData,
    })
}

/// `y = x` as the vector of its entries in row-major order, `Vector<{size S}>` (PyTorch's
/// `flatten`; a copy). JVP `dx`, VJP `δ`, both read in shape `S`.
#[must_use]
pub fn flatten<G: ShapeList, S>(x: Idx<G, S>) -> OpNode<G, Reshape<S, Flat<S>>>
where
    S::Size: Length,
    Flat<S>: Shape,
    S: SameSize<Flat<S>>,
{
    op_node!(Reshape {
        x: Slot::new(x.pos),
        name: "flatten",
        to: PhantomData,
    })
}

// ---------------------------------------------------------------------------------------------

/// The op `y = x` with axes `A` and `B` exchanged ([`swapaxes`]).
#[derive(Clone, Copy, Debug)]
pub struct AxisSwap<S, const A: usize, const B: usize> {
    x: Slot<S>,
}

impl<S: Shape, const A: usize, const B: usize> AxisSwap<S, A, B> {
    fn map() -> Strided {
        let mut axes: Vec<usize> = (0..S::RANK).collect();
        axes.swap(A, B);
        permute_strided(&S::dims(), &axes)
    }
}

impl<S: Shape, const A: usize, const B: usize> Op for AxisSwap<S, A, B>
where
    S: SwapAxes<A, B>,
{
    type Out = <S as SwapAxes<A, B>>::Output;
    fn name(&self) -> &str {
        "swapaxes"
    }
    fn reads(&self) -> SmallVec<[usize; 4]> {
        distinct(&[self.x.pos()])
    }
}

impl<E: Element, D, S: Shape, const A: usize, const B: usize> Eval<E, D> for AxisSwap<S, A, B>
where
    S: SwapAxes<A, B>,
{
    fn forward(&self, x: Operands<'_, E>, _: &D) -> Tensor<E, Self::Out> {
        Tensor::from_vec_unchecked(Self::map().gather(x.get(self.x).as_slice()))
    }
    fn jvp(&self, _: Operands<'_, E>, dx: Operands<'_, E>, _: &D) -> Tensor<E, Self::Out> {
        Tensor::from_vec_unchecked(Self::map().gather(dx.get(self.x).as_slice()))
    }
    fn vjp(&self, _: Operands<'_, E>, _: &D, seed: &Tensor<E, Self::Out>) -> Pullback<E> {
        let g = Self::map().scatter(seed.as_slice(), S::SIZE);
        Pullback::single(self.x, Tensor::from_vec_unchecked(g))
    }
}

/// `y = x` with axes `A` and `B` exchanged (PyTorch's `transpose(x, A, B)`, NumPy's
/// `swapaxes`; a copy): `ops::swapaxes::<0, 2, _, _>(x)` turns a `Tensor3<2, 3, 4>` into a
/// `Tensor3<4, 3, 2>`. JVP: the same swap of `dx`; VJP: the same swap of `δ`. For a matrix,
/// [`transpose`](crate::ops::transpose) is `swapaxes::<0, 1, _, _>`.
#[must_use]
pub fn swapaxes<const A: usize, const B: usize, G: ShapeList, S>(
    x: Idx<G, S>,
) -> OpNode<G, AxisSwap<S, A, B>>
where
    S: SwapAxes<A, B>,
{
    op_node!(AxisSwap {
        x: Slot::new(x.pos)
    })
}

/// The op `y = x` with its axes permuted by `P` ([`permute`]).
#[derive(Clone, Copy, Debug)]
pub struct Permute<S, P> {
    x: Slot<S>,
    axes: PhantomData<fn() -> P>,
}

impl<S: Shape, P: AxisList> Permute<S, P> {
    fn map() -> Strided {
        permute_strided(&S::dims(), &P::axes())
    }
}

impl<S: Shape, P: AxisList> Op for Permute<S, P>
where
    S: PermuteAxes<P>,
{
    type Out = <S as PermuteAxes<P>>::Output;
    fn name(&self) -> &str {
        "permute"
    }
    fn reads(&self) -> SmallVec<[usize; 4]> {
        distinct(&[self.x.pos()])
    }
}

impl<E: Element, D, S: Shape, P: AxisList> Eval<E, D> for Permute<S, P>
where
    S: PermuteAxes<P>,
{
    fn forward(&self, x: Operands<'_, E>, _: &D) -> Tensor<E, Self::Out> {
        Tensor::from_vec_unchecked(Self::map().gather(x.get(self.x).as_slice()))
    }
    fn jvp(&self, _: Operands<'_, E>, dx: Operands<'_, E>, _: &D) -> Tensor<E, Self::Out> {
        Tensor::from_vec_unchecked(Self::map().gather(dx.get(self.x).as_slice()))
    }
    fn vjp(&self, _: Operands<'_, E>, _: &D, seed: &Tensor<E, Self::Out>) -> Pullback<E> {
        let g = Self::map().scatter(seed.as_slice(), S::SIZE);
        Pullback::single(self.x, Tensor::from_vec_unchecked(g))
    }
}

/// A permutation of axes written with literal numbers, `axes![2, 0, 1]`: the tuple
/// `(Ax::<2>, Ax::<0>, Ax::<1>)` that [`permute`](crate::ops::permute) takes (an array-valued
/// const generic such as `permute::<[2, 0, 1]>` needs an unstable feature).
///
/// ```
/// use shapetape::autograd::GraphData;
/// use shapetape::prelude::*;
/// use shapetape::{axes, ops};
///
/// type G = HList![Tensor3<2, 3, 4>];
/// let g = GraphData::<f32, (), G, HNil>::nil()
///     .snoc(ops::permute(Idx::at::<0>(), axes![2, 0, 1]));
/// let _: &GraphData<f32, (), G, HList![Tensor3<4, 2, 3>]> = &g;
/// ```
#[macro_export]
macro_rules! axes {
    ($($a:literal),+ $(,)?) => {
        ($($crate::ops::Ax::<$a>,)+)
    };
}

/// `y = x` with axis `k` of `y` being axis `P[k]` of `x` (PyTorch's `permute`, NumPy's
/// `transpose(x, axes)`; a copy), the permutation written as a tuple of [`Ax`]:
/// `ops::permute(x, (Ax::<2>, Ax::<0>, Ax::<1>))` turns a `Tensor3<2, 3, 4>` into a
/// `Tensor3<4, 2, 3>`. Any rank up to 8. JVP: the same permutation of `dx`; VJP: the inverse
/// permutation of `δ`.
#[must_use]
pub fn permute<G: ShapeList, S, P: AxisList>(x: Idx<G, S>, _axes: P) -> OpNode<G, Permute<S, P>>
where
    S: PermuteAxes<P>,
{
    op_node!(Permute {
        x: Slot::new(x.pos),
        axes: PhantomData,
    })
}

// ---------------------------------------------------------------------------------------------

/// The op `y = [a, b]` along axis `A` ([`concat()`]).
#[derive(Clone, Copy, Debug)]
pub struct Concat<S, T, const A: usize> {
    a: Slot<S>,
    b: Slot<T>,
}

/// The number of entries of a block from axis `a` inward, `Π_{k ≥ a} dims[k]`, and the number
/// of such blocks, `Π_{k < a} dims[k]`.
fn blocks(dims: &[usize], a: usize) -> (usize, usize) {
    (dims[..a].iter().product(), dims[a..].iter().product())
}

/// The blocks of `a` and `b` interleaved: block `o` of `a`, then block `o` of `b`, for each `o`.
fn interleave<A: Clone>(a: &[A], b: &[A], outer: usize, ca: usize, cb: usize) -> Vec<A> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    for o in 0..outer {
        out.extend_from_slice(&a[o * ca..(o + 1) * ca]);
        out.extend_from_slice(&b[o * cb..(o + 1) * cb]);
    }
    out
}

/// The inverse of [`interleave`]: the blocks of `y` dealt back to `a` and `b`.
fn deal<A: Clone>(y: &[A], outer: usize, ca: usize, cb: usize) -> (Vec<A>, Vec<A>) {
    let (mut a, mut b) = (
        Vec::with_capacity(outer * ca),
        Vec::with_capacity(outer * cb),
    );
    for o in 0..outer {
        let base = o * (ca + cb);
        a.extend_from_slice(&y[base..base + ca]);
        b.extend_from_slice(&y[base + ca..base + ca + cb]);
    }
    (a, b)
}

impl<S: Shape, T: Shape, const A: usize> Concat<S, T, A> {
    /// The number of blocks and the block sizes of `a` and `b`.
    fn layout() -> (usize, usize, usize) {
        let (outer, ca) = blocks(&S::dims(), A);
        let (_, cb) = blocks(&T::dims(), A);
        (outer, ca, cb)
    }
}

impl<S: Shape, T: Shape, const A: usize> Op for Concat<S, T, A>
where
    S: ConcatAlong<T, A>,
{
    type Out = <S as ConcatAlong<T, A>>::Output;
    fn name(&self) -> &str {
        "concat"
    }
    fn reads(&self) -> SmallVec<[usize; 4]> {
        distinct(&[self.a.pos(), self.b.pos()])
    }
}

impl<E: Element, D, S: Shape, T: Shape, const A: usize> Eval<E, D> for Concat<S, T, A>
where
    S: ConcatAlong<T, A>,
{
    fn forward(&self, x: Operands<'_, E>, _: &D) -> Tensor<E, Self::Out> {
        let (outer, ca, cb) = Self::layout();
        let (a, b) = (x.get(self.a), x.get(self.b));
        Tensor::from_vec_unchecked(interleave(a.as_slice(), b.as_slice(), outer, ca, cb))
    }
    fn jvp(&self, _: Operands<'_, E>, dx: Operands<'_, E>, _: &D) -> Tensor<E, Self::Out> {
        let (outer, ca, cb) = Self::layout();
        let (a, b) = (dx.get(self.a), dx.get(self.b));
        Tensor::from_vec_unchecked(interleave(a.as_slice(), b.as_slice(), outer, ca, cb))
    }
    fn vjp(&self, x: Operands<'_, E>, _: &D, seed: &Tensor<E, Self::Out>) -> Pullback<E> {
        let (outer, ca, cb) = Self::layout();
        let (ga, gb) = deal(seed.as_slice(), outer, ca, cb);
        Pullback::none()
            .with_if(x, self.a, || Tensor::from_vec_unchecked(ga))
            .with_if(x, self.b, || Tensor::from_vec_unchecked(gb))
    }
}

/// `y = [a, b]` along axis `A` (PyTorch's `torch.cat([a, b], A)`, NumPy's `concatenate`): the
/// lengths on axis `A` add up, every other axis must match. `ops::concat::<0, _, _, _>(a, b)`
/// of `[1, 2]` and `[3]` is `[1, 2, 3]`. JVP `[da, db]`, VJP: `δ` split back into its two
/// parts (added into one slot when `a` and `b` are the same operand).
#[must_use]
pub fn concat<const A: usize, G: ShapeList, S, T: Shape>(
    a: Idx<G, S>,
    b: Idx<G, T>,
) -> OpNode<G, Concat<S, T, A>>
where
    S: ConcatAlong<T, A>,
{
    op_node!(Concat {
        a: Slot::new(a.pos),
        b: Slot::new(b.pos),
    })
}

/// The op `y = [a, b]` along a new leading axis of length 2 ([`stack`]).
#[derive(Clone, Copy, Debug)]
pub struct Stack<S> {
    a: Slot<S>,
    b: Slot<S>,
}

impl<S: Shape> Op for Stack<S>
where
    Dim<2, S>: Shape,
{
    type Out = Dim<2, S>;
    fn name(&self) -> &str {
        "stack"
    }
    fn reads(&self) -> SmallVec<[usize; 4]> {
        distinct(&[self.a.pos(), self.b.pos()])
    }
}

impl<E: Element, D, S: Shape> Eval<E, D> for Stack<S>
where
    Dim<2, S>: Shape,
{
    fn forward(&self, x: Operands<'_, E>, _: &D) -> Tensor<E, Dim<2, S>> {
        let (a, b) = (x.get(self.a), x.get(self.b));
        Tensor::from_vec_unchecked([a.as_slice(), b.as_slice()].concat())
    }
    fn jvp(&self, _: Operands<'_, E>, dx: Operands<'_, E>, _: &D) -> Tensor<E, Dim<2, S>> {
        let (a, b) = (dx.get(self.a), dx.get(self.b));
        Tensor::from_vec_unchecked([a.as_slice(), b.as_slice()].concat())
    }
    fn vjp(&self, x: Operands<'_, E>, _: &D, seed: &Tensor<E, Dim<2, S>>) -> Pullback<E> {
        let (ga, gb) = seed.as_slice().split_at(S::SIZE);
        Pullback::none()
            .with_if(x, self.a, || Tensor::from_vec_unchecked(ga.to_vec()))
            .with_if(x, self.b, || Tensor::from_vec_unchecked(gb.to_vec()))
    }
}

/// `y = [a, b]` stacked along a new leading axis, shape `Dim<2, S>` (PyTorch's
/// `torch.stack([a, b])`); both operands have shape `S`. JVP `[da, db]`, VJP `(δ₀, δ₁)` (added
/// into one slot when `a` and `b` are the same operand).
#[must_use]
pub fn stack<G: ShapeList, S: Shape, S2: SameShape<S>>(
    a: Idx<G, S>,
    b: Idx<G, S2>,
) -> OpNode<G, Stack<S>>
where
    Dim<2, S>: Shape,
{
    op_node!(Stack {
        a: Slot::new(a.pos),
        b: Slot::new(b.pos),
    })
}

// ---------------------------------------------------------------------------------------------

/// The op `y = x[…, START..START + LEN, …]` on axis `A` ([`narrow`]).
#[derive(Clone, Copy, Debug)]
pub struct Narrow<S, const A: usize, const START: usize, const LEN: usize> {
    x: Slot<S>,
}

impl<S: Shape, const A: usize, const START: usize, const LEN: usize> Narrow<S, A, START, LEN> {
    fn map() -> Strided {
        let dims = S::dims();
        let st = strides(&dims);
        let mut out_dims = dims.to_vec();
        out_dims[A] = LEN;
        Strided::new(&out_dims, &st, START * st[A])
    }
}

impl<S: Shape, const A: usize, const START: usize, const LEN: usize> Op for Narrow<S, A, START, LEN>
where
    S: NarrowAlong<A, START, LEN>,
{
    type Out = <S as NarrowAlong<A, START, LEN>>::Output;
    fn name(&self) -> &str {
        "narrow"
    }
    fn reads(&self) -> SmallVec<[usize; 4]> {
        distinct(&[self.x.pos()])
    }
}

impl<E: Element, D, S: Shape, const A: usize, const START: usize, const LEN: usize> Eval<E, D>
    for Narrow<S, A, START, LEN>
where
    S: NarrowAlong<A, START, LEN>,
{
    fn forward(&self, x: Operands<'_, E>, _: &D) -> Tensor<E, Self::Out> {
        Tensor::from_vec_unchecked(Self::map().gather(x.get(self.x).as_slice()))
    }
    fn jvp(&self, _: Operands<'_, E>, dx: Operands<'_, E>, _: &D) -> Tensor<E, Self::Out> {
        Tensor::from_vec_unchecked(Self::map().gather(dx.get(self.x).as_slice()))
    }
    fn vjp(&self, _: Operands<'_, E>, _: &D, seed: &Tensor<E, Self::Out>) -> Pullback<E> {
        let g = Self::map().scatter(seed.as_slice(), S::SIZE);
        Pullback::single(self.x, Tensor::from_vec_unchecked(g))
    }
}

/// `y` = the entries `START..START + LEN` of `x` along axis `A` (PyTorch's
/// `narrow(x, A, START, LEN)`, the slice `x[…, START:START + LEN, …]`; a copy):
/// `ops::narrow::<1, 1, 2, _, _>(x)` keeps columns 1 and 2 of a matrix. A slice past the end
/// is a compile error. JVP: the same slice of `dx`; VJP: `δ` put back in place, zero elsewhere.
#[must_use]
pub fn narrow<const A: usize, const START: usize, const LEN: usize, G: ShapeList, S>(
    x: Idx<G, S>,
) -> OpNode<G, Narrow<S, A, START, LEN>>
where
    S: NarrowAlong<A, START, LEN>,
{
    op_node!(Narrow {
        x: Slot::new(x.pos)
    })
}

// ---------------------------------------------------------------------------------------------

/// The op `y = x` broadcast to shape `T` ([`broadcast_to`]).
#[derive(Clone, Copy, Debug)]
pub struct Broadcast<S, T> {
    x: Slot<S>,
    to: PhantomData<fn() -> T>,
}

impl<S: Shape, T: Shape> Broadcast<S, T> {
    /// For every entry of `y`, the entry of `x` it copies: the trailing axes aligned, index 0 on
    /// the axes where `x` has length 1 and on the leading axes `x` lacks.
    pub(crate) fn map() -> Vec<usize> {
        Self::strided().map()
    }

    /// The same positions as a strided gather.
    fn strided() -> Strided {
        let (sd, td) = (S::dims(), T::dims());
        let st = strides(&sd);
        let lead = td.len() - sd.len();
        let step: Vec<usize> = (0..td.len())
            .map(|k| {
                if k < lead || sd[k - lead] == 1 {
                    0
                } else {
                    st[k - lead]
                }
            })
            .collect();
        Strided::new(&td, &step, 0)
    }
}

impl<S: Shape, T: Shape> Op for Broadcast<S, T>
where
    S: BroadcastTo<T>,
{
    type Out = T;
    fn name(&self) -> &str {
        "broadcast_to"
    }
    fn reads(&self) -> SmallVec<[usize; 4]> {
        distinct(&[self.x.pos()])
    }
}

impl<E: Element, D, S: Shape, T: Shape> Eval<E, D> for Broadcast<S, T>
where
    S: BroadcastTo<T>,
{
    fn forward(&self, x: Operands<'_, E>, _: &D) -> Tensor<E, T> {
        Tensor::from_vec_unchecked(Self::strided().gather(x.get(self.x).as_slice()))
    }
    fn jvp(&self, _: Operands<'_, E>, dx: Operands<'_, E>, _: &D) -> Tensor<E, T> {
        Tensor::from_vec_unchecked(Self::strided().gather(dx.get(self.x).as_slice()))
    }
    fn vjp(&self, _: Operands<'_, E>, _: &D, seed: &Tensor<E, T>) -> Pullback<E> {
        let g = Self::strided().scatter_add(seed.as_slice(), S::SIZE);
        Pullback::single(self.x, Tensor::from_vec_unchecked(g))
    }
}

/// `y = x` broadcast to shape `T` (NumPy's rule, PyTorch's `broadcast_to`/`expand`; a copy):
/// the trailing axes aligned, each of length 1 or equal to the target's, and the missing leading
/// axes added. `ops::broadcast_to::<Matrix<4, 3>, _, _>(b)` copies a bias `b: Vector<3>` into
/// every row. JVP: the same broadcast of `dx`; VJP: `δ` summed over the broadcast axes.
#[must_use]
pub fn broadcast_to<T: Shape, G: ShapeList, S>(x: Idx<G, S>) -> OpNode<G, Broadcast<S, T>>
where
    S: BroadcastTo<T>,
{
    op_node!(Broadcast {
        x: Slot::new(x.pos),
        to: PhantomData,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strides_and_maps() {
        assert_eq!(strides(&[2, 3, 4]), vec![12, 4, 1]);
        assert_eq!(strides(&[]), Vec::<usize>::new());
        // Transpose of a 2×3 matrix: y[j][i] = x[i][j].
        assert_eq!(
            permute_strided(&[2, 3], &[1, 0]).map(),
            vec![0, 3, 1, 4, 2, 5]
        );
        // Columns 1..3 of a 2×3 matrix.
        assert_eq!(gather_map(&[2, 2], &[3, 1], 1), vec![1, 2, 4, 5]);
        assert_eq!(Strided::new(&[2, 2], &[3, 1], 1).map(), vec![1, 2, 4, 5]);
        // Empty output.
        assert!(gather_map(&[2, 0], &[1, 1], 0).is_empty());
        assert!(Strided::new(&[2, 0], &[1, 1], 0).map().is_empty());
        assert_eq!(
            scatter_add(&[1.0, 2.0, 3.0, 4.0], &[0, 1, 0, 1], 2),
            vec![4.0, 6.0]
        );
    }

    /// The strided copies (merged axes, runs along the last one) move the same entries as the
    /// position-by-position map: permutations, slices and broadcasts of several ranks, with
    /// axes of length 1 and steps 0.
    #[test]
    fn strided_copies_match_the_map() {
        let cases: [(&[usize], &[usize], usize); 8] = [
            (&[2, 3, 4], &[12, 4, 1], 0),        // identity: one run
            (&[4, 3, 2], &[1, 4, 12], 0),        // full reversal of the axes
            (&[2, 4, 3, 5], &[60, 5, 20, 1], 0), // swap of the middle axes
            (&[2, 2, 3], &[15, 3, 1], 6),        // a slice on the middle axis
            (&[3, 1, 4], &[4, 7, 1], 0),         // an axis of length 1
            (&[2, 3, 4], &[0, 4, 1], 0),         // broadcast over the leading axis
            (&[3, 4], &[1, 0], 0),               // broadcast along the last axis
            (&[], &[], 5),                       // a scalar
        ];
        for (dims, step, offset) in cases {
            let st = Strided::new(dims, step, offset);
            let map = gather_map(dims, step, offset);
            assert_eq!(st.map(), map, "{dims:?} {step:?}");
            let len = map.iter().max().map_or(0, |m| m + 1);
            let x: Vec<f64> = (0..len).map(|v| v as f64 * 1.5 - 3.0).collect();
            let by_map: Vec<f64> = map.iter().map(|&i| x[i]).collect();
            assert_eq!(st.gather(&x), by_map, "{dims:?} {step:?}");
            let seed: Vec<f64> = (0..map.len()).map(|v| (v * v) as f64 + 0.25).collect();
            assert_eq!(st.scatter_add(&seed, len), scatter_add(&seed, &map, len));
            let injective = {
                let mut m = map.clone();
                m.sort_unstable();
                m.windows(2).all(|w| w[0] != w[1])
            };
            if injective {
                let mut g = vec![0.0; len];
                for (d, &i) in seed.iter().zip(&map) {
                    g[i] = *d;
                }
                assert_eq!(st.scatter(&seed, len), g, "{dims:?} {step:?}");
            }
        }
    }
}
