#!/usr/bin/env bash
# Installs the Debian 12 packages Beatbook needs to build and test, and only those missing.
# Idempotent and non-interactive: used by both README commands and by .ci/run.
#   scripts/install-deps.sh             # building, running and the C++ tests
#   scripts/install-deps.sh --tests     # also what the tests run: Chromium, Node.js, PostgreSQL
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config   # toolchain
  libsqlite3-dev sqlite3                         # local and central store
  libpq-dev                                      # the PostgreSQL central store (libpq)
  libcurl4-openssl-dev                           # field_client HTTP
  zlib1g-dev                                     # gzip of sync bodies on the wire
  nlohmann-json3-dev                             # JSON: forms, wire format, CLI output
  libboost-dev                                   # Asio + Beast: sync_server
  libssl-dev                                     # TLS (Asio SSL), credential hashes, ids
  libcli11-dev                                   # command-line parsing
  libspdlog-dev                                  # sync_server's structured log
  libxlsxwriter-dev                              # the quarterly return and XLSForm export as Excel workbooks
  libzip-dev libexpat1-dev                       # reading XLSForm workbooks (.xlsx: a zip of XML)
  doctest-dev                                    # unit and end-to-end tests
  libsodium-dev                                  # device store encryption: XChaCha20-Poly1305, Argon2id PIN keys
  libexiv2-dev                                   # photos: reading JPEG/PNG metadata, removing GPS locations
  openssl                                        # tests: a CA and server certificates for TLS
)

if [ "${1:-}" = "--tests" ]; then
  # Debian's headless Chromium, driven by playwright-core from npm (tests/browser), with Node.js
  # and npm only where the machine has none of its own; PostgreSQL for a throw-away cluster that
  # the PostgreSQL store's tests run on (scripts/pg-cluster.sh).
  packages+=(chromium fonts-dejavu-core postgresql)
  command -v node >/dev/null || packages+=(nodejs)
  command -v npm >/dev/null || packages+=(npm)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "installing: ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
