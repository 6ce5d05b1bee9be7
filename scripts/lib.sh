#!/usr/bin/env bash
# Shared helpers of the project's scripts: each installs a tool only when it is missing or at
# the wrong version.

# rustfmt and clippy come with the toolchain here; add them if a minimal profile lacks them.
ensure_rust_components() {
    cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
    cargo clippy --version >/dev/null 2>&1 || rustup component add clippy
}

# Installs Debian package $1 when the command $2 is missing: apt lists are read once, and an
# install that fails mid-unpack is repaired and retried, three times (shared/toolchain.md).
apt_install() {
    local package="$1" command="$2" sudo="" attempt
    command -v "$command" >/dev/null 2>&1 && return 0
    echo "apt: installing $package"
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update || true
    for attempt in 1 2 3; do
        if $sudo apt-get install -y "$package"; then
            return 0
        fi
        [ "$attempt" -eq 3 ] && { echo "apt: could not install $package" >&2; return 1; }
        $sudo apt-get install -f -y || true
        $sudo apt-get update || true
    done
}
