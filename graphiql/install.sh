#!/usr/bin/env bash
# GraphiQL's scripts and styles, fetched once from the npm registry (`npm pack`, which
# checks each tarball's integrity) into DEST, laid out as unpkg.com lays them out:
# DEST/<package>@<version>/<path>. contactgraph serves them from there when
# CONTACTGRAPH_GRAPHIQL_ASSETS=DEST. Packages already in DEST are left as they are.
# Usage: graphiql/install.sh [DEST]   (default: graphiql/assets)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dest=${1:-$here/assets}
specs=$(node -p 'Object.entries(require(process.argv[1]).dependencies).map(([name, version]) => `${name}@${version}`).join("\n")' "$here/package.json")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for spec in $specs; do
    [ -d "$dest/$spec" ] && continue
    tarball=$(cd "$work" && npm pack --silent --no-fund --no-audit "$spec" | tail -n 1)
    mkdir -p "$work/$spec" "$(dirname "$dest/$spec")"
    tar -xzf "$work/$tarball" -C "$work/$spec" --strip-components=1 --no-same-owner
    mv "$work/$spec" "$dest/$spec"
    echo "graphiql: $spec -> $dest/$spec"
done
