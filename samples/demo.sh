#!/bin/sh
# `make demo`: ingests the bundled sample logs into a fresh out/demo.db and
# prints the report. Usage: samples/demo.sh BUILDPROF
set -eu
bp=$1
cd "$(dirname "$0")/.."
mkdir -p out
rm -f out/demo.db out/demo.db-wal out/demo.db-shm
db="--db out/demo.db"
echo "== ingest: BuildKit and legacy-builder logs of the same project (samples/PROVENANCE.md)"
for builder in buildkit legacy buildah; do
    for run in cold warm src-change deps-change failed; do
        $bp $db ingest --name "sample-$builder" --label builder=$builder --label run=$run \
            samples/logs/$builder-$run.log
    done
done
echo
echo "== ingest: the legacy-built image's inspect, history and registry manifest"
$bp $db ingest samples/images/legacy-cold-inspect.json samples/images/legacy-cold-history.jsonl \
    samples/images/legacy-cold-manifest.json
echo
echo "== builds"
$bp $db builds
echo
echo "== report: the BuildKit builds"
$bp $db report label:builder=buildkit --top 3
echo
echo "== images: the legacy cold build's image, linked to its build"
$bp $db images 1
echo
echo "== report: the legacy cold build, with its image size"
$bp $db report label:builder=legacy label:run=cold
$bp $db report --format json > out/report.json
echo
echo "== compare: cold builds against builds after a source change"
$bp $db compare label:run=cold label:run=src-change
echo
echo "== charts (out/*.png, out/*.svg) and the HTML report (out/report.html)"
# the timeline needs per-vertex times: the rawjson stream of the cold build
# (tests/data/rawjson, constructed from samples/logs/buildkit-cold.log); the
# pipeline chart a GitLab pipeline from the corpus (tests/data/corpus)
$bp $db ingest --name sample-buildkit-rawjson tests/data/rawjson/buildkit-cold.jsonl >/dev/null
$bp $db ingest tests/data/corpus/gitlab-jobs/go-gitlab-webhook-pipeline-event.json >/dev/null
for f in png svg; do
    $bp $db plot steps label:builder=buildkit -o out/steps.$f
    $bp $db plot cache -o out/cache.$f
    $bp $db plot trend label:builder=buildkit -o out/trend.$f
    $bp $db plot timeline name:sample-buildkit-rawjson -o out/timeline.$f
    $bp $db plot sizes -o out/sizes.$f
    $bp $db plot compare label:run=cold label:run=src-change -o out/compare.$f
    $bp $db plot pipeline 31 -o out/pipeline.$f
done
$bp $db report --format html -o out/report.html
echo "out/report.html: the report with its charts, one file"
echo
echo "The database is out/demo.db; the JSON report is out/report.json, the HTML one out/report.html."
echo "Try: ./buildprof --db out/demo.db report label:run=failed"
