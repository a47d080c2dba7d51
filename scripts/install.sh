#!/usr/bin/env bash
# Installs what bazaar needs on Debian 12, and nothing twice:
#   1. the Debian packages listed in scripts/debian-packages.txt that are missing;
#   2. a venv in .venv built from /usr/bin/python3 (readable by the postgres user, unlike
#      a pyenv build under /root), holding requirements.lock and bazaar itself (editable).
# A second run checks and returns in about a second.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'install: %s\n' "$*"; }

mapfile -t packages < <(grep -v -e '^#' -e '^[[:space:]]*$' scripts/debian-packages.txt)
missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done
if ((${#missing[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
        log "missing Debian packages: ${missing[*]} (run as root, or install them yourself)" >&2
        exit 1
    fi
    # bazaar never uses Debian's default cluster: ask postgresql-common not to create 15/main.
    mkdir -p /etc/postgresql-common/createcluster.d
    echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.d/bazaar.conf
    # Debian starts a package's own service on install (etcd, PgBouncer, Prometheus and its
    # exporters...), on the very ports bazaar's stack uses: bazaar runs its own copies under
    # supervisord and never those. A policy-rc.d that says "no" keeps them from starting (Docker
    # images ship one; a full Debian does not), and on systemd the new units are disabled too.
    policy=/usr/sbin/policy-rc.d
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\n# bazaar install.sh: no service starts while packages install\nexit 101\n' > "$policy"
        chmod 755 "$policy"
        trap 'rm -f "$policy"' EXIT
    fi
    log "apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
    if [[ -d /run/systemd/system ]]; then
        for p in "${missing[@]}"; do
            for unit in $(dpkg-query -L "$p" 2>/dev/null | grep -E '^/(usr/)?lib/systemd/system/[^/]+\.service$' || true); do
                systemctl disable --now "$(basename "$unit")" >/dev/null 2>&1 || true
            done
        done
    fi
fi

stamp=.venv/.bazaar-installed
want=$(cat requirements.lock pyproject.toml | sha256sum | cut -c1-16)
if [[ ! -x .venv/bin/python ]] || ! .venv/bin/python -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    log "creating .venv from /usr/bin/python3"
    rm -rf .venv
    /usr/bin/python3 -m venv .venv
fi
if [[ "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
    log "installing Python dependencies into .venv"
    .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.lock
    .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
    echo "$want" > "$stamp"
fi
