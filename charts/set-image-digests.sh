#!/usr/bin/env bash
# Pins the released images by digest in the charts' values, before `helm package` (the release
# workflow runs it on its checkout, tests/integration/release on a copy of charts/). In place:
#   shopstream/values.yaml  api, relay and consumer: image.repository and image.digest
#   operator/values.yaml    image.repository and image.digest; the umbrella's operator and its
#                           deletion hook take them from there
# The workload chart is left as it is: one chart for three components has no one digest; on its
# own it runs <component>:<appVersion>, a tag the release pushes too.
# The registry stays the charts' (ghcr.io); NAMESPACE is the path before /<component>, which is
# shopstream for the charts' defaults and the repository owner for a fork's release.
#
# usage: set-image-digests.sh CHARTS_DIR NAMESPACE api=sha256:<hex> relay=... consumer=... operator=...
set -euo pipefail

die() { printf 'set-image-digests: %s\n' "$*" >&2; exit 1; }

[ $# -eq 6 ] || die "usage: $0 CHARTS_DIR NAMESPACE api=sha256:<hex> relay=... consumer=... operator=..."
charts=$1 namespace=$2
shift 2
[[ $namespace =~ ^[a-z0-9]+([._-][a-z0-9]+)*$ ]] || die "NAMESPACE '$namespace' is not a lowercase registry path segment"
declare -A digests
for pair in "$@"; do
  component=${pair%%=*} digest=${pair#*=}
  case $component in api | relay | consumer | operator) ;; *) die "unknown component in '$pair'" ;; esac
  [[ $digest =~ ^sha256:[0-9a-f]{64}$ ]] || die "$component: '$digest' is not sha256:<64 hex digits>"
  digests[$component]=$digest
done
[ ${#digests[@]} -eq 4 ] || die "each of api, relay, consumer and operator needs one digest"

# edit FILE AWK_PROGRAM [awk -v assignments...]: the file is replaced only when awk succeeds.
edit() {
  local file=$1 program=$2
  shift 2
  awk "$@" "$program" "$file" >"$file.pinned" || { rm -f "$file.pinned"; die "$file does not have the shape this script edits"; }
  mv "$file.pinned" "$file"
}

# Under the umbrella's top-level section of the component, which must not have an image key yet.
# shellcheck disable=SC2016 # an awk program: $0 is awk's
umbrella_section='
  in_section && /^[^ #]/ { in_section = 0 }
  in_section && /^  image:/ { exit 3 }
  { print }
  $0 == section ":" {
    found++; in_section = 1
    print "  image:"; print "    repository: " repository; print "    digest: \047" digest "\047"
  }
  END { if (found != 1) exit 3 }'
for component in api relay consumer; do
  edit "$charts/shopstream/values.yaml" "$umbrella_section" -v section="$component" \
    -v repository="$namespace/$component" -v digest="${digests[$component]}"
done

# The operator chart's top-level image block, whose repository and digest lines are replaced.
# shellcheck disable=SC2016 # an awk program: $0 is awk's
operator_image='
  in_image && /^[^ #]/ { in_image = 0 }
  $0 == "image:" { images++; in_image = 1 }
  in_image && /^  repository:/ { $0 = "  repository: " repository; repositories++ }
  in_image && /^  digest:/ { $0 = "  digest: \047" digest "\047"; pinned++ }
  { print }
  END { if (images != 1 || repositories != 1 || pinned != 1) exit 3 }'
edit "$charts/operator/values.yaml" "$operator_image" \
  -v repository="$namespace/operator" -v digest="${digests[operator]}"
