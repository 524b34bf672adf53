# kube-controller-manager, kube-scheduler and kwok (fake nodes) against the local kube-apiserver, so
# the API behaves like a cluster: Deployments get ReplicaSets and Pods that turn Running and Ready,
# garbage collection and namespace deletion happen, `helm install --wait` can finish. No kubelet or
# container runtime: kwok plays the nodes and the pods' lifecycle. Sourced after kube.sh.
KWOK_DIR="$SHOPSTREAM_CACHE/kwok-v$KWOK_VERSION"
KWOK_BIN="$KWOK_DIR/bin/kwok"
KCM_PID="$KUBE_DIR/kube-controller-manager.pid"; KCM_LOG="$KUBE_DIR/kube-controller-manager.log"
SCHEDULER_PID="$KUBE_DIR/kube-scheduler.pid"; SCHEDULER_LOG="$KUBE_DIR/kube-scheduler.log"
KWOK_PID="$KUBE_DIR/kwok.pid"; KWOK_LOG="$KUBE_DIR/kwok.log"
KWOK_NODE=kwok-node-0

# SHOPSTREAM_CONTROL_PLANE=0: the plain apiserver profile, nothing below is built or started.
control_plane_wanted() { [ "${SHOPSTREAM_CONTROL_PLANE:-1}" != 0 ]; }

# kube-apiserver's build (build-k8s.sh) brings the controller manager and scheduler along.
kwok_install() { control_plane_wanted || return 0; bash "$INFRA_DIR/lib/build-go-tools.sh" kwok; }

# Their serving certificates are self-signed in memory, so health is probed without verification;
# /healthz is on their default always-allowed paths, so no credentials are needed either.
kcm_healthy() { curl -skf "https://127.0.0.1:$KUBE_CONTROLLER_MANAGER_PORT/healthz" >/dev/null 2>&1; }
scheduler_healthy() { curl -skf "https://127.0.0.1:$KUBE_SCHEDULER_PORT/healthz" >/dev/null 2>&1; }
# kwok answers /healthz while it runs; the fake node only counts once the node stages made it Ready.
kwok_healthy() {
  curl -sf "http://127.0.0.1:$KWOK_PORT/healthz" >/dev/null 2>&1 && [ "$(kwok_node_ready)" = True ]
}
kwok_node_ready() {
  "$K8S_BIN/kubectl" --kubeconfig="$KUBECONFIG_PATH" get node "$KWOK_NODE" \
    -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null || true
}
control_plane_healthy() { kcm_healthy && scheduler_healthy && kwok_healthy; }

kcm_start() {
  kcm_healthy && return 0
  # The admin kubeconfig (system:masters) serves for everything: one local user, no RBAC to debug.
  # Controllers that need a cloud or a pod network (node IPAM, routes, load balancers) have nothing
  # to act on here and stay off. The service-account key lets the token controller sign tokens.
  spawn "$KCM_PID" "$KCM_LOG" "$K8S_BIN/kube-controller-manager" \
    --kubeconfig="$KUBECONFIG_PATH" --authentication-kubeconfig="$KUBECONFIG_PATH" \
    --authorization-kubeconfig="$KUBECONFIG_PATH" --leader-elect=false \
    --bind-address=127.0.0.1 --secure-port="$KUBE_CONTROLLER_MANAGER_PORT" \
    --controllers='*,-node-ipam-controller,-cloud-node-lifecycle-controller,-service-lb-controller,-node-route-controller' \
    --service-account-private-key-file="$PKI/sa.key" --root-ca-file="$PKI/ca.crt" \
    --use-service-account-credentials=false
  wait_healthy kube-controller-manager kcm_healthy 60 "$KCM_LOG" "$KCM_PID"
}

scheduler_start() {
  scheduler_healthy && return 0
  spawn "$SCHEDULER_PID" "$SCHEDULER_LOG" "$K8S_BIN/kube-scheduler" \
    --kubeconfig="$KUBECONFIG_PATH" --authentication-kubeconfig="$KUBECONFIG_PATH" \
    --authorization-kubeconfig="$KUBECONFIG_PATH" --leader-elect=false \
    --bind-address=127.0.0.1 --secure-port="$KUBE_SCHEDULER_PORT"
  wait_healthy kube-scheduler scheduler_healthy 60 "$SCHEDULER_LOG" "$SCHEDULER_PID"
}

kwok_start() {
  if ! curl -sf "http://127.0.0.1:$KWOK_PORT/healthz" >/dev/null 2>&1; then
    local stages=() f
    for f in "$KWOK_DIR"/stages/*.yaml; do stages+=(--config="$f"); done
    # Only nodes annotated kwok.x-k8s.io/node=fake are kwok's, so a real node added later is left alone.
    spawn "$KWOK_PID" "$KWOK_LOG" "$KWOK_BIN" --kubeconfig="$KUBECONFIG_PATH" \
      --manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
      --node-ip=127.0.0.1 --server-address="127.0.0.1:$KWOK_PORT" "${stages[@]}"
  fi
  kwok_node_apply
  wait_healthy "kwok (node $KWOK_NODE Ready)" kwok_healthy 60 "$KWOK_LOG" "$KWOK_PID"
}

# One fake node, untainted, so workloads schedule without tolerations. Its capacity is generous:
# nothing really runs, and tests must not fail for lack of room.
kwok_node_apply() {
  "$K8S_BIN/kubectl" --kubeconfig="$KUBECONFIG_PATH" apply -f - >"$KUBE_DIR/kwok-node.log" 2>&1 <<NODE || die "creating the fake node failed; see $KUBE_DIR/kwok-node.log"
apiVersion: v1
kind: Node
metadata:
  name: $KWOK_NODE
  annotations: {kwok.x-k8s.io/node: fake}
  labels: {kubernetes.io/hostname: $KWOK_NODE, kubernetes.io/os: linux, kubernetes.io/arch: amd64, type: kwok}
status:
  allocatable: {cpu: "64", memory: 256Gi, pods: "500"}
  capacity: {cpu: "64", memory: 256Gi, pods: "500"}
NODE
}

control_plane_start() {
  control_plane_wanted || return 0
  kcm_start; log "kube-controller-manager ready at $(kcm_endpoint)"
  scheduler_start; log "kube-scheduler ready at $(scheduler_endpoint)"
  kwok_start; log "kwok ready at $(kwok_endpoint)"
}

control_plane_stop() {
  stop_pid "$KWOK_PID" kwok 20; stop_pid "$SCHEDULER_PID" kube-scheduler 20; stop_pid "$KCM_PID" kube-controller-manager 20
}

kcm_endpoint() { echo "https://127.0.0.1:$KUBE_CONTROLLER_MANAGER_PORT/healthz"; }
scheduler_endpoint() { echo "https://127.0.0.1:$KUBE_SCHEDULER_PORT/healthz"; }
kwok_endpoint() { echo "http://127.0.0.1:$KWOK_PORT/healthz (node $KWOK_NODE)"; }
kwok_version() { [ -x "$KWOK_BIN" ] && "$KWOK_BIN" --version 2>/dev/null | awk 'NR==1 {print $3}'; }
k8s_component_version() { [ -x "$K8S_BIN/$1" ] && "$K8S_BIN/$1" --version 2>/dev/null | awk '{print $2}'; }
