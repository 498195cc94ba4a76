# Shared by scripts/start-demo, scripts/test and .ci/run: install what is missing, nothing more.

# Run as root directly, or through sudo for a normal user.
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# apt_ensure PACKAGE… installs those Debian/Ubuntu packages that are not installed yet.
apt_ensure() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "==> Installing system packages: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    --no-upgrade "${missing[@]}" >/dev/null
}

# What WeasyPrint (PDF reports) needs, and the fonts the print stylesheet names.
RUNTIME_PACKAGES=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core fonts-liberation2)

# A Python 3.11+ and a virtual environment in .venv with observe installed (editable).
ensure_venv() {
  local extras=${1:-}
  if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "observe needs Python 3.11 or newer; this machine has: $(python3 --version 2>&1)" >&2
    exit 1
  fi
  if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
    apt_ensure python3-venv
  fi
  [ -x .venv/bin/python ] || python3 -m venv .venv
  echo "==> Installing observe${extras:+ with $extras} into .venv"
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".${extras:+[$extras]}"
}

# The JavaScript tools in package.json (Biome for scripts/lint-js, axe-core for the browser
# tests' accessibility checks) in node_modules/: installed (again) only when one is missing or
# the lockfile changed since the last install. The app itself never needs them.
node_tools_ensure() {
  command -v npm >/dev/null || apt_ensure nodejs npm
  if [ ! -x node_modules/.bin/biome ] || [ ! -f node_modules/axe-core/axe.min.js ] \
    || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "==> Installing the JavaScript tools (npm ci)"
    npm ci --no-audit --no-fund --loglevel=error >/dev/null
  fi
}
