#!/usr/bin/env bash
# SplitRelay's one entry point for a fresh machine: installs what is missing, then runs
# a root package.json script. Usage: ./run.sh demo | ./run.sh test | ./run.sh bench
# | ./run.sh audit lab | ./run.sh audit live <settings.json>
set -euo pipefail
cd "$(dirname "$0")"

say() { printf '\033[1m[splitrelay]\033[0m %s\n' "$*" >&2; }

# Corepack refuses the registry reachable here unless integrity keys are disabled
# (docs/design.md, "Runtime"); it then installs the pnpm version package.json pins.
export COREPACK_INTEGRITY_KEYS=0 COREPACK_ENABLE_DOWNLOAD_PROMPT=0

if ! command -v pnpm >/dev/null 2>&1; then
  say "installing pnpm through corepack"
  if ! corepack enable pnpm 2>/dev/null; then
    say "corepack failed; installing pnpm with npm instead"
    npm install --global --no-fund --no-audit pnpm@10
  fi
fi

apt_install() {
  if [ "$(id -u)" -ne 0 ]; then
    say "need root to install Debian packages: $*"
    return 1
  fi
  say "installing Debian packages: $*"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# curl is the demo's and the tests' real client; dnsmasq the tests' real DNS server;
# python3 holds a never-accepting listener in a timeout test; nats-server is the control plane.
missing=()
command -v curl >/dev/null 2>&1 || missing+=(curl ca-certificates)
if [ "${1:-}" = test ] || [ "${1:-}" = demo ] || [ "${1:-}" = audit ]; then
  [ -x /usr/sbin/nats-server ] || missing+=(nats-server)
fi
if [ "${1:-}" = test ]; then
  command -v dnsmasq >/dev/null 2>&1 || [ -x /usr/sbin/dnsmasq ] || missing+=(dnsmasq-base)
  command -v python3 >/dev/null 2>&1 || missing+=(python3)
fi
# The auditor's lab (and its tests): namespaces and veths, packet captures, the router's filter.
if [ "${1:-}" = test ] || [ "${1:-}" = audit ]; then
  command -v ip >/dev/null 2>&1 || [ -x /usr/sbin/ip ] || missing+=(iproute2)
  command -v tcpdump >/dev/null 2>&1 || [ -x /usr/bin/tcpdump ] || [ -x /usr/sbin/tcpdump ] || missing+=(tcpdump)
  command -v nft >/dev/null 2>&1 || [ -x /usr/sbin/nft ] || missing+=(nftables)
fi
# The audit tests open the report's HTML page in a real headless browser.
if [ "${1:-}" = test ]; then
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
fi
if [ "${#missing[@]}" -gt 0 ]; then apt_install "${missing[@]}"; fi

say "installing dependencies (Node 26 comes with them as the 'node' package)"
pnpm install --frozen-lockfile --reporter=silent

script="${1:-}"
case "$script" in
  demo | test | bench | audit) ;;
  *)
    echo "usage: ./run.sh demo | test | bench | audit lab | audit live <settings.json>" >&2
    exit 2
    ;;
esac
shift || true
# From here on pnpm itself runs on the project's Node 26 (the install above ran on whatever
# Node the machine had, hence its engines warning).
export PATH="$PWD/node_modules/.bin:$PATH"
say "running: pnpm run $script $* (node $(node --version))"
exec pnpm run "$script" "$@"
