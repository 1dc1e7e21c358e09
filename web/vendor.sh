#!/usr/bin/env bash
# Copies the console's pinned front-end packages from npm into
# static/vendor/, where go:embed picks them up: no bundler and no JavaScript
# build step at run time.
#
#   web/vendor.sh          fetch, verify and (re)write static/vendor/
#   web/vendor.sh --check  fetch and verify into a temporary folder and fail
#                          if static/vendor/ differs from what it would write
#
# Each tarball's sha512 must equal the integrity npm's registry gives for
# that version and, once static/vendor/VERSIONS records it, the recorded
# one: a republished or tampered tarball stops the script. VERSIONS also
# records the sha256 of every file copied, which web's tests check.
#
# To change a version, edit PACKAGES below and run the script; the new
# version's integrity comes from the registry and is recorded.
set -euo pipefail

cd "$(dirname "$0")"

# package|version|folder under static/vendor|files (path in the package[:name in the folder])
PACKAGES=(
  "htmx.org|2.0.11|htmx|dist/htmx.min.js LICENSE"
  "echarts|6.1.0|echarts|dist/echarts.min.js LICENSE NOTICE licenses/LICENSE-d3"
  "@picocss/pico|2.1.1|pico|css/pico.min.css LICENSE.md:LICENSE"
)

check=false
case "${1:-}" in
  "") ;;
  --check) check=true ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

for tool in npm tar openssl base64 sha256sum; do
  command -v "$tool" >/dev/null || { echo "vendor.sh: $tool is needed" >&2; exit 1; }
done

vendor=static/vendor
lock="$vendor/VERSIONS"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
out="$work/vendor"
mkdir -p "$out"

# locked_integrity NAME VERSION prints the integrity VERSIONS records, if any.
locked_integrity() {
  [ -f "$lock" ] || return 0
  awk -v n="$1" -v v="$2" '$1 == "package" && $2 == n && $3 == v { print $4 }' "$lock"
}

{
  echo "# Front-end packages copied from npm by web/vendor.sh; do not edit by hand."
  echo "# package NAME VERSION INTEGRITY (sha512 of the npm tarball)"
  echo "# file PATH sha256:HEX NAME (PATH under static/vendor/, copied from package NAME)"
} >"$work/VERSIONS"

for entry in "${PACKAGES[@]}"; do
  IFS='|' read -r name version folder files <<<"$entry"
  spec="$name@$version"

  registry=$(npm view "$spec" dist.integrity 2>"$work/npm-view.err") || {
    echo "vendor.sh: npm view $spec dist.integrity failed:" >&2
    cat "$work/npm-view.err" >&2
    exit 1
  }
  if [ -z "$registry" ]; then
    echo "vendor.sh: the registry has no integrity for $spec" >&2
    exit 1
  fi
  locked=$(locked_integrity "$name" "$version")
  if [ -n "$locked" ] && [ "$locked" != "$registry" ]; then
    echo "vendor.sh: $spec: the registry now says $registry, VERSIONS recorded $locked" >&2
    exit 1
  fi

  pack="$work/pack/$folder-$(echo "$name" | tr '/@' '__')"
  mkdir -p "$pack"
  tgz=$(cd "$pack" && npm pack --silent "$spec" 2>"$work/npm-pack.err" | tail -n 1) || {
    echo "vendor.sh: npm pack $spec failed:" >&2
    cat "$work/npm-pack.err" >&2
    exit 1
  }
  if [ ! -f "$pack/$tgz" ]; then
    echo "vendor.sh: npm pack $spec wrote no tarball (got \"$tgz\")" >&2
    exit 1
  fi
  got="sha512-$(openssl dgst -sha512 -binary "$pack/$tgz" | base64 -w0)"
  if [ "$got" != "$registry" ]; then
    echo "vendor.sh: $spec: tarball sha512 is $got, the registry says $registry" >&2
    exit 1
  fi
  tar -xzf "$pack/$tgz" -C "$pack" --no-same-owner
  echo "package $name $version $got" >>"$work/VERSIONS"

  mkdir -p "$out/$folder"
  for f in $files; do
    src=${f%%:*}
    dst=$(basename "$src")
    [ "$f" = "$src" ] || dst=${f#*:}
    if [ ! -f "$pack/package/$src" ]; then
      echo "vendor.sh: $spec has no $src" >&2
      exit 1
    fi
    if [ -e "$out/$folder/$dst" ]; then
      echo "vendor.sh: two packages write $folder/$dst" >&2
      exit 1
    fi
    cp "$pack/package/$src" "$out/$folder/$dst"
    chmod 0644 "$out/$folder/$dst"
  done
done

# every file with its sha256 and the package it came from
for entry in "${PACKAGES[@]}"; do
  IFS='|' read -r name version folder files <<<"$entry"
  for f in $files; do
    src=${f%%:*}
    dst=$(basename "$src")
    [ "$f" = "$src" ] || dst=${f#*:}
    echo "file $folder/$dst sha256:$(sha256sum "$out/$folder/$dst" | cut -d' ' -f1) $name" >>"$work/VERSIONS"
  done
done
cp "$work/VERSIONS" "$out/VERSIONS"

if $check; then
  if ! diff -r "$vendor" "$out" >"$work/diff"; then
    echo "vendor.sh: $vendor differs from the pinned packages:" >&2
    head -n 40 "$work/diff" >&2
    exit 1
  fi
  echo "vendor.sh: $vendor matches the pinned packages"
  exit 0
fi

rm -rf "$vendor"
mkdir -p "$(dirname "$vendor")"
cp -R "$out" "$vendor"
echo "vendor.sh: wrote $vendor:"
sed -n 's/^package /  /p' "$vendor/VERSIONS"
