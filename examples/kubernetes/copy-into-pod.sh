#!/usr/bin/env bash
# Runs `nats-doctor check` inside a running pod, with that container's own environment,
# resolv.conf and network policies: copies the static binary to /tmp and executes it.
#
#   examples/kubernetes/copy-into-pod.sh NAMESPACE POD [CONTAINER] [-- CHECK ARGS...]
#   examples/kubernetes/copy-into-pod.sh petrosa-apps klines-extractor-7d9f-abcde extractor -- --format json
#
# The binary is scripts/build-static's output (or NATS_DOCTOR=/path/to/binary).
# `kubectl cp` needs `tar` in the container; without it the binary is streamed through
# `kubectl exec -i … cat`.
set -euo pipefail

if [ $# -lt 2 ]; then
  sed -n '2,10p' "$0" >&2
  exit 2
fi
namespace=$1
pod=$2
shift 2
container_args=()
if [ $# -gt 0 ] && [ "$1" != "--" ]; then
  container_args=(-c "$1")
  shift
fi
if [ $# -gt 0 ] && [ "$1" = "--" ]; then
  shift
fi
binary=${NATS_DOCTOR:-target/x86_64-unknown-linux-musl/release/nats-doctor}
if [ ! -x "$binary" ]; then
  echo "no binary at $binary: run scripts/build-static or set NATS_DOCTOR" >&2
  exit 2
fi

if kubectl exec -n "$namespace" "$pod" "${container_args[@]}" -- tar --version >/dev/null 2>&1; then
  kubectl cp "$binary" "$namespace/$pod:/tmp/nats-doctor" "${container_args[@]}"
else
  kubectl exec -i -n "$namespace" "$pod" "${container_args[@]}" -- \
    sh -c 'cat > /tmp/nats-doctor' <"$binary"
fi
kubectl exec -n "$namespace" "$pod" "${container_args[@]}" -- chmod +x /tmp/nats-doctor
# The exit code is check's: 0 all steps passed, 1 a step failed.
status=0
kubectl exec -n "$namespace" "$pod" "${container_args[@]}" -- /tmp/nats-doctor check "$@" || status=$?
kubectl exec -n "$namespace" "$pod" "${container_args[@]}" -- rm -f /tmp/nats-doctor || true
exit "$status"
