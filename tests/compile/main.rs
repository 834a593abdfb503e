//! trybuild cases for the generated API (conventions in `compile/README.md`).

#[test]
fn generated_api() {
    let cases = trybuild::TestCases::new();
    cases.pass("pass/*.rs");
    cases.compile_fail("fail/*.rs");
}
