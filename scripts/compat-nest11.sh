#!/usr/bin/env bash
# npm run compat:prepare: makes test/compat/nest11-cjs, a NestJS 11 app in CommonJS, ready for
# test/compat/nest11-cjs.spec.ts. The app gets nestjs-kettle the way a user does, from the packed
# package installed into its own node_modules (so kettle resolves @nestjs/* 11 from there):
#   1. build, when dist/ is missing or older than lib/, the build's tsconfig files or its scripts;
#   2. npm pack into test/compat/nest11-cjs/nestjs-kettle.tgz;
#   3. npm install of that tarball and of the app's pinned dependencies (its package-lock.json),
#      skipped when the tarball, package.json and package-lock.json are those of the last install;
#   4. compile the app with its own TypeScript 5 (module commonjs), as a NestJS 11 project does
#      (its Jest spec, src/*.spec.ts, is for test/compat/nest11-jest.spec.ts to run).
# A second run with nothing changed takes a few seconds.
#
# KETTLE_PACKAGE_DIR=<folder>: pack that folder (a package.json beside a built dist/) instead of
# the repository, and build nothing: for trying it without touching the repository's dist/.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
app="$root/test/compat/nest11-cjs"
package_dir="${KETTLE_PACKAGE_DIR:-$root}"
tarball="$app/nestjs-kettle.tgz"
stamp="$app/node_modules/.kettle-compat-stamp"
cd "$root"

step() { printf 'compat:prepare: %s\n' "$*"; }

# 1. Build if needed.
if [ -z "${KETTLE_PACKAGE_DIR:-}" ]; then
  if [ ! -f dist/esm/index.js ] ||
    [ -n "$(find lib tsconfig.base.json tsconfig.build.json scripts/esm-wrappers.mjs -newer dist/esm/index.js -print -quit)" ]; then
    step "dist/ is missing or older than lib/: npm run build"
    npm run build --silent
  fi
fi
for built in dist/cjs/index.js dist/esm/index.js; do
  [ -f "$package_dir/$built" ] || { echo "compat:prepare: no $package_dir/$built" >&2; exit 1; }
done

# 2. Pack. The tarball is replaced only when its bytes differ (npm pack is reproducible).
pack_dir="$(mktemp -d)"
trap 'rm -rf "$pack_dir"' EXIT
(cd "$package_dir" && npm pack --silent --pack-destination "$pack_dir" >/dev/null)
packed=("$pack_dir"/*.tgz)
if [ "${#packed[@]}" -ne 1 ] || [ ! -f "${packed[0]}" ]; then
  echo "compat:prepare: npm pack made no single tarball in $pack_dir" >&2
  exit 1
fi
if cmp -s "${packed[0]}" "$tarball"; then
  step "nestjs-kettle.tgz unchanged"
else
  mv "${packed[0]}" "$tarball"
  step "packed $(tar -tzf "$tarball" | wc -l) files into test/compat/nest11-cjs/nestjs-kettle.tgz"
fi

# 3. Install, unless the last install was of the same tarball and dependencies.
wanted="$(cd "$app" && sha256sum nestjs-kettle.tgz package.json package-lock.json)"
if [ -f "$stamp" ] && [ -f "$app/node_modules/nestjs-kettle/package.json" ] &&
  [ "$(cat "$stamp")" = "$wanted" ]; then
  step "node_modules up to date"
else
  step "npm install in test/compat/nest11-cjs"
  rm -f "$stamp"
  # --no-save: package.json and package-lock.json stay as committed; the versions of everything
  # but kettle come from package-lock.json.
  (cd "$app" && npm install --no-save --no-audit --no-fund --prefer-offline --loglevel=error \
    ./nestjs-kettle.tgz)
  printf '%s\n' "$wanted" >"$stamp"
fi

# 4. Compile (CommonJS).
rm -rf "$app/dist"
"$app/node_modules/.bin/tsc" -p "$app/tsconfig.build.json"
# The spec reads the stamp's time: the app is ready for what lib/ is now.
touch "$stamp"
step "ready: node test/compat/nest11-cjs/dist/main.js"
