//! Compile-fail suite: every program in `ui-tests/` must be rejected with the recorded error.

#[test]
fn compile_fail() {
    trybuild::TestCases::new().compile_fail("ui-tests/*.rs");
}
