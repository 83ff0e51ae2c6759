#!/usr/bin/env bash
# Installs whatever is missing for postdeploy on this machine, and nothing twice:
# the Python environment (.venv), Chromium, PostgreSQL binaries, and the Node tools
# (MailDev, the Allure 3 CLI). Safe to run again; quick when everything is there.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[setup] %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
  say "need root to run: $*"; say "install it by hand, or run this script as root"; exit 1; fi; }
apt_updated=
apt_install() {
  [ -n "$apt_updated" ] || { as_root apt-get update -qq; apt_updated=1; }
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# Python: the library (editable), the reference targets' server dependencies (extra 'sandbox') and the dev tools.
PY=${PYTHON:-python3}
stamp=.venv/.postdeploy-installed
if [ ! -x .venv/bin/python ]; then say "creating .venv"; "$PY" -m venv .venv; fi
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  say "installing Python dependencies"
  .venv/bin/pip install -q --disable-pip-version-check -e '.[sandbox,dev]'
  echo "$want" > "$stamp"
fi

# A browser for the @browser scenarios (Playwright's own download needs the internet).
if [ -z "${POSTDEPLOY_BROWSER:-}" ] && ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null \
   && ! command -v google-chrome >/dev/null; then
  say "installing Chromium (apt)"; apt_install chromium
fi

# PostgreSQL server binaries for the sandbox's ephemeral cluster.
if ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && [ -z "${PG_BIN:-}" ]; then
  say "installing PostgreSQL (apt)"; apt_install postgresql
fi

# Dovecot: the real IMAP server (TLS) the mailbox self-tests read from (tests/mail/).
if ! command -v dovecot >/dev/null && [ ! -x /usr/sbin/dovecot ]; then
  say "installing Dovecot (apt)"; apt_install dovecot-imapd
fi

# Node tools: MailDev (SMTP capture for the sandbox) and the Allure 3 report CLI.
if ! command -v npm >/dev/null; then say "installing Node.js (apt)"; apt_install nodejs npm; fi
lock=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat node_modules/.postdeploy-installed 2>/dev/null)" != "$lock" ]; then
  say "installing Node tools (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
  echo "$lock" > node_modules/.postdeploy-installed
fi
say "ready"
