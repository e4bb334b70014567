#!/bin/sh
# Assembles the zip + layer deployment of this example (see README.md):
#   $OUT/layer/     bootstrap, extensions/lambda-adapter   zipped to $OUT/layer.zip
#                   (the layer: Lambda mounts it at /opt)
#   $OUT/function/  run.sh, app.js                        zipped to $OUT/function.zip
#                   (the function's code: Lambda unpacks it in /var/task)
# Settings (environment):
#   ADAPTER   the lambda-adapter binary built for Lambda
#             [<repo>/target/lambda/extensions/lambda-adapter, from
#              cargo lambda build --release --extension -p serverless-adapter-proxy --bin lambda-adapter]
#   OUT       the output directory [build/ beside this script]
#   ZIP_WITH  zip or python3 [zip when installed, else python3]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
adapter=${ADAPTER:-$repo/target/lambda/extensions/lambda-adapter}
bootstrap=$repo/frameworks/proxy/layer/bootstrap
out=${OUT:-$here/build}

if [ ! -f "$adapter" ]; then
    echo "package.sh: $adapter does not exist: build lambda-adapter first" >&2
    echo "  (cargo lambda build --release --extension -p serverless-adapter-proxy --bin lambda-adapter)," >&2
    echo "  or point ADAPTER at the binary" >&2
    exit 1
fi
if [ -z "${ZIP_WITH:-}" ]; then
    if command -v zip >/dev/null 2>&1; then ZIP_WITH=zip; else ZIP_WITH=python3; fi
fi
case "$ZIP_WITH" in
    zip | python3) command -v "$ZIP_WITH" >/dev/null 2>&1 || {
        echo "package.sh: $ZIP_WITH is not installed (install zip, or set ZIP_WITH=python3)" >&2
        exit 1
    } ;;
    *) echo "package.sh: ZIP_WITH must be zip or python3, not '$ZIP_WITH'" >&2; exit 1 ;;
esac

mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -rf "$out/layer" "$out/function" "$out/layer.zip" "$out/function.zip"
mkdir -p "$out/layer/extensions" "$out/function"
cp "$bootstrap" "$out/layer/bootstrap"
cp "$adapter" "$out/layer/extensions/lambda-adapter"
cp "$here/run.sh" "$here/app.js" "$out/function/"
# Lambda keeps the modes stored in the zip: the scripts and the binary must be executable.
chmod 755 "$out/layer/bootstrap" "$out/layer/extensions/lambda-adapter" "$out/function/run.sh"
chmod 644 "$out/function/app.js"

# zip_dir DIR ZIP: the contents of DIR at the root of ZIP, file modes kept.
zip_dir() {
    if [ "$ZIP_WITH" = zip ]; then
        (cd "$1" && zip -q -X -r "$2" .)
    else
        (cd "$1" && python3 -m zipfile -c "$2" *)
    fi
}
zip_dir "$out/layer" "$out/layer.zip"
zip_dir "$out/function" "$out/function.zip"
echo "package.sh: $out/layer.zip and $out/function.zip"
