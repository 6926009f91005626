//! Constants baked into a graph: a node with no operands and zero derivative.
//!
//! **Mathematics.** The constant node `y = c` reads no slot: its JVP is 0 and its VJP
//! contributes nothing. Its value is given once, in `f64`, and embedded into each scalar the
//! graph runs at (exactly into `f64`, ℚ and intervals, rounded to nearest into `f32`), so a
//! certified graph bounds the rounding of the runtime copy like any other op.

use std::sync::Arc;

use smallvec::SmallVec;

use crate::autograd::op::{Eval, Op, OpNode, Operands, Pullback};
use crate::ops::{Constant, ConstantError};
use crate::shape::Shape;
use crate::shape_list::ShapeList;
use crate::tensor::Tensor;

/// The op `y = c` for a fixed tensor `c` (built by [`constant`] or the builder's
/// [`GraphBuilder::constant`](crate::autograd::GraphBuilder::constant)).
pub struct Const<S> {
    values: Arc<Tensor<f64, S>>,
}

impl<S> Clone for Const<S> {
    fn clone(&self) -> Self {
        Const {
            values: Arc::clone(&self.values),
        }
    }
}

impl<S> core::fmt::Debug for Const<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Const")
    }
}

impl<S: Shape> Op for Const<S> {
    type Out = S;
    fn name(&self) -> &str {
        "constant"
    }
    fn reads(&self) -> SmallVec<[usize; 4]> {
        SmallVec::new()
    }
}

impl<A: crate::scalar::Element, D, S: Shape> Eval<A, D> for Const<S>
where
    f64: Constant<A>,
{
    fn forward(&self, _: Operands<'_, A>, _: &D) -> Tensor<A, S> {
        self.values.map(|v| Constant::<A>::at(v))
    }
    fn jvp(&self, _: Operands<'_, A>, _: Operands<'_, A>, _: &D) -> Tensor<A, S> {
        Tensor::zeros()
    }
    fn vjp(&self, _: Operands<'_, A>, _: &D, _: &Tensor<A, S>) -> Pullback<A> {
        Pullback::none()
    }
}

/// The constant node `y = c` in the context `G` (every entry of `c` must be finite).
///
/// ```
/// # use shapetape::prelude::*;
/// # use shapetape::{autograd::GraphData, ops};
/// type G = HList![Vector<2>];
/// let g = GraphData::<f32, (), G, _>::build(|b| {
///     let x = b.input::<0>();
///     let (b, c) = b.constant(Tensor::<f64, Vector<2>>::new([0.5, -1.0])).unwrap();
///     let (b, _) = b.push(|s| ops::mul(s.idx(x), s.idx(c)));
///     b
/// });
/// let y = g.eval(tlist![Tensor::new([4.0, 2.0])], &());
/// assert_eq!(y.into_tensors().tail.tail.head.as_slice(), &[2.0, -2.0]);
/// ```
pub fn constant<G: ShapeList, S: Shape>(
    c: Tensor<f64, S>,
) -> Result<OpNode<G, Const<S>>, ConstantError> {
    match c.as_slice().iter().find(|v| !f64::is_finite(**v)) {
        Some(&v) => Err(ConstantError {
            op: "constant",
            value: v,
            needs: "finite entries",
        }),
        None => Ok(OpNode::new(Const {
            values: Arc::new(c),
        })),
    }
}
