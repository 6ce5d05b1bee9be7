//! Build script: sets up linking of the Node addon (napi-build).

fn main() {
    napi_build::setup();
}
