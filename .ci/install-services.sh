#!/usr/bin/env bash
# Installs and starts the real services the test suite uses (see shared/SERVICES.md).
# Idempotent: on a machine where everything is present it only checks and returns quickly.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

log() { printf '[install-services] %s\n' "$*"; }
die() { printf '[install-services] ERROR: %s\n' "$*" >&2; exit 1; }

export DEBIAN_FRONTEND=noninteractive

# --- Debian packages: Dovecot (IMAP) and Chromium ---------------------------------------------
missing=()
command -v dovecot >/dev/null 2>&1 || missing+=(dovecot-imapd)
[ -x /usr/bin/chromium ] || missing+=(chromium)
if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then SUDO=(); else SUDO=(sudo -n); fi
    log "apt-get install ${missing[*]}"
    "${SUDO[@]}" apt-get update -qq
    "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
    log "dovecot and chromium present"
fi
# The packaged Dovecot service is not used: tests run a private instance.

# --- AMP validator, offline --------------------------------------------------------------------
AMP_DIR="$REPO/.cache/amp"
AMP_BIN="$AMP_DIR/node_modules/.bin/amphtml-validator"
AMP_JS="$AMP_DIR/validator_wasm.js"
mkdir -p "$AMP_DIR"
if [ ! -x "$AMP_BIN" ]; then
    command -v npm >/dev/null 2>&1 || die "npm is needed for the AMP validator"
    log "npm install amphtml-validator@1"
    npm install --silent --no-audit --no-fund --prefix "$AMP_DIR" amphtml-validator@1 >/dev/null
fi
if [ ! -s "$AMP_JS" ]; then
    command -v npm >/dev/null 2>&1 || die "npm is needed for the AMP validator"
    log "extracting validator_wasm.js from next@15"
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    tgz="$(cd "$tmp" && npm pack --silent next@15 | tail -n 1)"
    tar -xzf "$tmp/$tgz" -C "$tmp" package/dist/compiled/amphtml-validator/validator_wasm.js
    mv "$tmp/package/dist/compiled/amphtml-validator/validator_wasm.js" "$AMP_JS.part"
    mv "$AMP_JS.part" "$AMP_JS"
    rm -rf "$tmp"
    trap - EXIT
fi

# --- PostgreSQL --------------------------------------------------------------------------------
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    command -v pg_ctlcluster >/dev/null 2>&1 || die "PostgreSQL is not installed"
    version="$(ls /etc/postgresql | sort -V | tail -n 1)"
    log "starting PostgreSQL $version"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start
    for _ in $(seq 1 100); do
        pg_isready -q -h 127.0.0.1 -p 5432 && break
        sleep 0.1
    done
    pg_isready -q -h 127.0.0.1 -p 5432 || die "PostgreSQL does not answer on 127.0.0.1:5432"
fi
log "PostgreSQL answers on 127.0.0.1:5432"

# --- verify the AMP validator on a minimal valid AMP4EMAIL document ----------------------------
check="$(mktemp --suffix=.html)"
cat >"$check" <<'HTML'
<!doctype html>
<html ⚡4email data-css-strict>
<head>
<meta charset="utf-8">
<script async src="https://cdn.ampproject.org/v0.js"></script>
<style amp4email-boilerplate>body{visibility:hidden}</style>
</head>
<body>
<p>Hello</p>
</body>
</html>
HTML
if out="$("$AMP_BIN" --html_format AMP4EMAIL --validator_js "$AMP_JS" "$check" 2>&1)" \
    && grep -q PASS <<<"$out"; then
    log "AMP validator works (PASS)"
    rm -f "$check"
else
    rm -f "$check"
    die "AMP validator failed on a valid AMP4EMAIL document: $out"
fi
