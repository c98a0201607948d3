#!/usr/bin/env bash
# Builds one commit of ember-lookit-frameplayer and uploads it to the experiments bucket, for the
# Builds function (Cloud Build runs this image) and for the local builder behind make run.
#
#   REPO_URL   https://github.com/<owner>/<repo> (GitHub: the archive of a commit is fetched)
#   SHA        the full 40-character commit
#   BUCKET     the experiments bucket (gs://BUCKET); empty with OUTPUT_DIR set: no upload
#   OUTPUT_DIR where dist/ is left (default /workspace/dist)
#
# The runner's assets are served from /frameplayer/<sha>/ (docs/decisions/0007), so the build is
# made with PREPEND_FINGERPRINT=/frameplayer/<sha>/ and uploaded under frameplayer/<sha>/,
# index.html last: a build is visible only once complete.
set -euo pipefail

fail() { echo "build.sh: $*" >&2; exit 1; }

[[ "${REPO_URL:-}" =~ ^https://[A-Za-z0-9.-]+/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$ ]] || fail "REPO_URL must be https://host/owner/repo"
[[ "${SHA:-}" =~ ^[0-9a-f]{40}$ ]] || fail "SHA must be a full 40-character commit"
OUTPUT_DIR="${OUTPUT_DIR:-/workspace/dist}"
for tool in curl tar node npm; do
	command -v "$tool" >/dev/null || fail "$tool is not installed"
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "fetching ${REPO_URL} at ${SHA}"
curl --fail --silent --show-error --location --retry 3 "${REPO_URL%.git}/archive/${SHA}.tar.gz" -o "$work/src.tar.gz" ||
	fail "could not fetch ${REPO_URL%.git}/archive/${SHA}.tar.gz"
mkdir "$work/src"
tar -xzf "$work/src.tar.gz" -C "$work/src" --strip-components=1
cd "$work/src"

echo "installing dependencies"
if [[ -f yarn.lock ]]; then
	command -v yarn >/dev/null || npm install --global --no-audit --no-fund yarn@1
	yarn install --frozen-lockfile --non-interactive
else
	npm ci --no-audit --no-fund
fi
if [[ -f bower.json ]]; then
	npx --yes bower@1.8.14 install --allow-root
fi

echo "building"
export PREPEND_FINGERPRINT="/frameplayer/${SHA}/"
npx ember build --environment=production --output-path="$work/dist"
[[ -s "$work/dist/index.html" ]] || fail "the build made no index.html"
grep -q "/frameplayer/${SHA}/" "$work/dist/index.html" || fail "index.html does not load its assets from /frameplayer/${SHA}/"

mkdir -p "$OUTPUT_DIR"
cp -R "$work/dist/." "$OUTPUT_DIR/"
if [[ -n "${BUCKET:-}" ]]; then
	command -v gcloud >/dev/null || fail "gcloud is not installed"
	dest="gs://${BUCKET}/frameplayer/${SHA}"
	echo "uploading to ${dest}/"
	# Everything but index.html first, then index.html: the build is served only when whole.
	gcloud storage rsync --recursive --exclude='^index\.html$' "$OUTPUT_DIR" "$dest"
	gcloud storage cp "$OUTPUT_DIR/index.html" "$dest/index.html"
fi
echo "built ${REPO_URL} at ${SHA}"
