#!/usr/bin/env bash
# Installs the Debian packages the tests need, when they are missing (fresh machine, CI).
set -euo pipefail
missing=()
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
command -v git >/dev/null || missing+=(git)
# kubectl drives the test Kubernetes API server (Debian 12 ships it as kubernetes-client).
command -v kubectl >/dev/null || missing+=(kubernetes-client)
[[ -x /usr/bin/prometheus-alertmanager ]] || missing+=(prometheus-alertmanager)
# The dashboard's browser tests drive Debian's Chromium (never a downloaded browser).
[[ -x /usr/bin/chromium ]] || missing+=(chromium fonts-dejavu-core)
# The manifests test renders deploy/kubernetes with the real kubectl (Debian: kubernetes-client).
command -v kubectl >/dev/null || missing+=(kubernetes-client)
[[ -x /usr/bin/prometheus ]] || missing+=(prometheus)
[[ -x /usr/bin/docker-registry ]] || missing+=(docker-registry)
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "test: installing ${missing[*]}"
  sudo_cmd=(); [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
