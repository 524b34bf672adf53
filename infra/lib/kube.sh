# etcd + kube-apiserver on 127.0.0.1, with a client-certificate admin kubeconfig at $KUBECONFIG_PATH.
ETCD_BIN="$SHOPSTREAM_CACHE/etcd-v$ETCD_VERSION/bin/etcd"
K8S_BIN="$SHOPSTREAM_CACHE/k8s-$K8S_VERSION/bin"
KUBE_DIR="$SHOPSTREAM_RUN/kube"
PKI="$KUBE_DIR/pki"
ETCD_PID="$KUBE_DIR/etcd.pid"; ETCD_LOG="$KUBE_DIR/etcd.log"
APISERVER_PID="$KUBE_DIR/kube-apiserver.pid"; APISERVER_LOG="$KUBE_DIR/kube-apiserver.log"
KUBECONFIG_PATH="$KUBE_DIR/kubeconfig"

etcd_install() { bash "$INFRA_DIR/lib/build-go-tools.sh" etcd; }
apiserver_install() { bash "$INFRA_DIR/lib/build-k8s.sh"; }

etcd_healthy() { curl -sf "http://127.0.0.1:$ETCD_CLIENT_PORT/health" 2>/dev/null | grep -q '"health":"true"'; }

etcd_start() {
  etcd_healthy && return 0
  mkdir -p "$KUBE_DIR"
  spawn "$ETCD_PID" "$ETCD_LOG" "$ETCD_BIN" --name=shopstream --data-dir="$KUBE_DIR/etcd" \
    --listen-client-urls="http://127.0.0.1:$ETCD_CLIENT_PORT" --advertise-client-urls="http://127.0.0.1:$ETCD_CLIENT_PORT" \
    --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster="shopstream=http://127.0.0.1:$ETCD_PEER_PORT" --listen-metrics-urls="" \
    --unsafe-no-fsync=true --quota-backend-bytes=2147483648
  wait_healthy etcd etcd_healthy 30 "$ETCD_LOG" "$ETCD_PID"
}

etcd_stop() { stop_pid "$ETCD_PID" etcd 20; }
etcd_version() { "$ETCD_BIN" --version | awk '/etcd Version/ {print $3}'; }
etcd_endpoint() { echo "http://127.0.0.1:$ETCD_CLIENT_PORT"; }

# A CA, a serving certificate for 127.0.0.1 and an admin client certificate in group system:masters.
kube_pki() {
  [ -f "$PKI/admin.crt" ] && return 0
  mkdir -p "$PKI"
  (
    cd "$PKI"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 -subj "/CN=shopstream-local-ca"
    openssl req -newkey rsa:2048 -nodes -keyout apiserver.key -out apiserver.csr -subj "/CN=kube-apiserver"
    printf 'subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n' > srv.ext
    openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out apiserver.crt -days 3650 -extfile srv.ext
    openssl req -newkey rsa:2048 -nodes -keyout admin.key -out admin.csr -subj "/O=system:masters/CN=shopstream-admin"
    printf 'extendedKeyUsage=clientAuth\n' > cli.ext
    openssl x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out admin.crt -days 3650 -extfile cli.ext
    openssl genrsa -out sa.key 2048 && openssl rsa -in sa.key -pubout -out sa.pub
  ) >"$KUBE_DIR/pki.log" 2>&1 || die "creating the kube PKI failed; see $KUBE_DIR/pki.log"
  cat >"$KUBECONFIG_PATH" <<KCFG
apiVersion: v1
kind: Config
clusters:
- name: shopstream-local
  cluster: {server: "https://127.0.0.1:$APISERVER_PORT", certificate-authority: "$PKI/ca.crt"}
users:
- name: shopstream-admin
  user: {client-certificate: "$PKI/admin.crt", client-key: "$PKI/admin.key"}
contexts:
- name: shopstream-local
  context: {cluster: shopstream-local, user: shopstream-admin}
current-context: shopstream-local
KCFG
}

apiserver_healthy() {
  curl -sf --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" \
    "https://127.0.0.1:$APISERVER_PORT/readyz" >/dev/null 2>&1
}

apiserver_start() {
  kube_pki
  apiserver_healthy && return 0
  # The ServiceAccount admission plugin stays off: it would refuse pods until the controller
  # manager has created the namespace's default ServiceAccount (never, in the plain profile; a race
  # right after a test creates its namespace otherwise), and no pod runs that could use a token.
  # The endpoint reconciler is off because there is no node network.
  spawn "$APISERVER_PID" "$APISERVER_LOG" "$K8S_BIN/kube-apiserver" \
    --etcd-servers="http://127.0.0.1:$ETCD_CLIENT_PORT" --etcd-prefix=/shopstream \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$APISERVER_PORT" \
    --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" --client-ca-file="$PKI/ca.crt" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
    --service-cluster-ip-range=10.0.0.0/24 --authorization-mode=RBAC --allow-privileged=true \
    --endpoint-reconciler-type=none --cert-dir="$KUBE_DIR/certs" --disable-admission-plugins=ServiceAccount
  wait_healthy kube-apiserver apiserver_healthy 90 "$APISERVER_LOG" "$APISERVER_PID"
}

apiserver_stop() { stop_pid "$APISERVER_PID" kube-apiserver 20; }
apiserver_version() { "$K8S_BIN/kube-apiserver" --version | awk '{print $2}'; }
apiserver_endpoint() { echo "https://127.0.0.1:$APISERVER_PORT (kubeconfig $KUBECONFIG_PATH)"; }
