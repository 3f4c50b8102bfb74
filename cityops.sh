#!/usr/bin/env bash
# cityops: the two commands.
#   ./cityops.sh up     install what is missing, start everything, print the dashboard URL
#   ./cityops.sh test   install what is missing, run every test
# Debian packages installed when missing (needs root or sudo): postgresql, mosquitto,
# chromium + chromium-driver (browser tests), fonts-noto-cjk (Chinese), nodejs + npm
# (the TimescaleDB-in-PGlite test server, the dashboard's own Chinese web font).
set -euo pipefail
cd "$(dirname "$0")"

APT_PACKAGES=(postgresql mosquitto mosquitto-clients chromium chromium-driver fonts-noto-cjk nodejs npm python3-venv)

missing_packages() {
  local missing=()
  ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || missing+=(postgresql)
  command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
  command -v mosquitto_pub >/dev/null 2>&1 || missing+=(mosquitto-clients)
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  [ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
  fc-list 2>/dev/null | grep -i "Noto Sans CJK" >/dev/null || missing+=(fonts-noto-cjk)  # not -q: SIGPIPE under pipefail
  command -v node >/dev/null 2>&1 || missing+=(nodejs)
  command -v npm >/dev/null 2>&1 || missing+=(npm)
  python3 -c "import ensurepip" >/dev/null 2>&1 || missing+=(python3-venv)
  echo "${missing[@]:-}"
}

install_system() {
  local missing
  missing="$(missing_packages)"
  [ -z "$missing" ] && return 0
  echo "cityops: installing Debian packages: $missing"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing >/dev/null
}

# Run an install command again only when the file it installs from changes (its sha256 is kept in a stamp).
install_when_changed() {
  local what=$1 source=$2 stamp=$3
  shift 3
  local want
  want="$(sha256sum "$source" | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "cityops: installing $what"
    "$@"
    echo "$want" > "$stamp"
  fi
}

install_python() {
  [ -x .venv/bin/python ] || python3 -m venv .venv
  install_when_changed "Python packages (requirements.txt)" requirements.txt .venv/.requirements.sha256 \
    sh -c '.venv/bin/pip install -q --upgrade pip && .venv/bin/pip install -q -r requirements.txt'
}

install_npm() {  # folder, what it holds
  install_when_changed "$2 (npm)" "$1/package-lock.json" "$1/node_modules/.cityops-lock.sha256" \
    sh -c "cd '$1' && npm ci --legacy-peer-deps --no-audit --no-fund --silent"
}

# The dashboard's trimmed plotly.js (tools/plotly/dist), built again when its lock file, entry or build script
# changes; without it the dashboard serves Dash's full plotly.min.js.
build_plotly() {
  local dir=tools/plotly want
  want="$(cat "$dir/package-lock.json" "$dir/entry.js" "$dir/build.js" | sha256sum | cut -d' ' -f1)"
  if [ ! -f "$dir/dist/plotly-cityops.min.js" ] || [ "$(cat "$dir/dist/.cityops-build.sha256" 2>/dev/null)" != "$want" ]; then
    echo "cityops: building the dashboard's trimmed plotly.js"
    (cd "$dir" && npm run --silent build)
    echo "$want" > "$dir/dist/.cityops-build.sha256"
  fi
}

# What the dashboard serves the browser from npm: the web font, date-fns's zh-CN locale, the trimmed plotly.js.
install_browser_assets() {
  install_npm tools/webfont "the dashboard's web font"
  install_npm tools/datefns "the date picker's Chinese month and weekday names"
  install_npm tools/plotly "the dashboard's plotly.js build"
  build_plotly
}

cmd="${1:-}"
shift || true
case "$cmd" in
  up)
    install_system
    install_python
    # The dashboard also starts without them (system fonts, English date names, Dash's full plotly.js).
    install_browser_assets
    exec .venv/bin/python -m cityops up "$@"
    ;;
  test)
    install_system
    install_python
    install_npm tools/timescale "the TimescaleDB test server"
    install_browser_assets
    .venv/bin/ruff check .  # lint first: a finding stops here
    .venv/bin/python -m mypy  # the packages and strictness are in pyproject.toml; a type error stops here
    exec .venv/bin/python -m pytest "$@"
    ;;
  *)
    echo "usage: ./cityops.sh up | test [pytest args]" >&2
    exit 2
    ;;
esac
