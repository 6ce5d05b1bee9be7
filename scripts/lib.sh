#!/usr/bin/env bash
# Shared helpers of the project's scripts: each installs a tool only when it is missing or at
# the wrong version.

# rustfmt and clippy come with the toolchain here; add them if a minimal profile lacks them.
ensure_rust_components() {
    cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
    cargo clippy --version >/dev/null 2>&1 || rustup component add clippy
}
