/**
 * The GitOps repository the simulated GitHub starts with: torghut-ws's Deployment, ConfigMap and
 * SealedSecret manifests as the runbook describes them (argocd/applications/torghut/**), with the
 * knobs the scenarios turn — replicas drifted to 2 (Alpaca 406), a restartedAt annotation or none,
 * a wrong KAFKA_BOOTSTRAP (procedure C).
 */

export const TORGHUT_DEPLOYMENT_PATH = 'argocd/applications/torghut/ws/deployment.yaml';
export const TORGHUT_CONFIGMAP_PATH = 'argocd/applications/torghut/ws/configmap.yaml';
export const TORGHUT_SEALED_SECRETS_PATH = 'argocd/applications/torghut/sealed-secrets.yaml';
export const TORGHUT_KAFKA_BOOTSTRAP = 'kafka-kafka-bootstrap.kafka:9092';

export interface TorghutTreeOptions {
  /** `spec.replicas` in deployment.yaml; 2 reproduces the drift that causes Alpaca 406. Default 1. */
  replicas?: number;
  /** Current restartedAt annotation; null leaves the annotation out. Default 2026-01-01T09:30:00Z. */
  restartedAt?: string | null;
  /** KAFKA_BOOTSTRAP in configmap.yaml (a wrong value reproduces a procedure C misconfiguration). */
  kafkaBootstrap?: string;
}

/** The files of the seeded repository, by path. */
export function torghutGitOpsTree(options: TorghutTreeOptions = {}): Record<string, string> {
  const replicas = options.replicas ?? 1;
  const restartedAt = options.restartedAt === undefined ? '2026-01-01T09:30:00Z' : options.restartedAt;
  const restartLine = restartedAt === null ? '' : `        kubectl.kubernetes.io/restartedAt: "${restartedAt}" # last GitOps restart\n`;
  const deployment = `# torghut-ws: forwards the Alpaca market-data WebSocket into Kafka.
# Runbook: "Operations: WS Connection Limit and Auth" (procedures A, B, C).
apiVersion: apps/v1
kind: Deployment
metadata:
  name: torghut-ws
  namespace: torghut
  labels:
    app: torghut-ws
    app.kubernetes.io/part-of: torghut
spec:
  # Alpaca allows one market-data connection per key: a second replica causes 406. Keep 1.
  replicas: ${replicas}
  revisionHistoryLimit: 5
  strategy:
    type: Recreate # never two pods at once
  selector:
    matchLabels:
      app: torghut-ws
  template:
    metadata:
      labels:
        app: torghut-ws
      annotations:
        prometheus.io/scrape: "true"
        prometheus.io/port: "8080"
${restartLine}    spec:
      serviceAccountName: torghut-ws
      containers:
        - name: torghut-ws
          image: registry.example.com/torghut/torghut-ws:1.4.2
          args: ["--symbols=AAPL,MSFT,NVDA,TSLA,AMZN,GOOGL,META,AMD", "--topic-prefix=torghut.marketdata.v1", "--status-topic=torghut.status.v1"]
          ports:
            - name: http
              containerPort: 8080
          envFrom:
            - configMapRef:
                name: torghut-ws
          env:
            - name: KAFKA_SASL_PASSWORD
              valueFrom:
                secretKeyRef: { name: torghut-ws, key: password }
            - name: APCA_API_KEY_ID
              valueFrom:
                secretKeyRef: { name: torghut-alpaca, key: APCA_API_KEY_ID }
            - name: APCA_API_SECRET_KEY
              valueFrom:
                secretKeyRef: { name: torghut-alpaca, key: APCA_API_SECRET_KEY }
          livenessProbe:
            httpGet: { path: /healthz, port: http }
            periodSeconds: 10
          readinessProbe:
            httpGet: { path: /readyz, port: http }
            periodSeconds: 5
            failureThreshold: 3
          resources:
            requests: { cpu: 100m, memory: 256Mi }
            limits:
              memory: 512Mi
`;
  const configMap = `# torghut-ws runtime configuration (no secrets here: see ../sealed-secrets.yaml).
apiVersion: v1
kind: ConfigMap
metadata:
  name: torghut-ws
  namespace: torghut
data:
  KAFKA_BOOTSTRAP: ${options.kafkaBootstrap ?? TORGHUT_KAFKA_BOOTSTRAP}
  KAFKA_SECURITY_PROTOCOL: SASL_PLAINTEXT
  KAFKA_SASL_MECHANISM: SCRAM-SHA-512
  ALPACA_FEED: sip
  ALPACA_STREAM_URL: wss://stream.data.alpaca.markets/v2/sip
  TRADE_UPDATES_ENABLED: "true"
`;
  const sealedSecrets = `# Alpaca credentials, sealed for the torghut namespace. Rotate with kubeseal, never in plain text.
apiVersion: bitnami.com/v1alpha1
kind: SealedSecret
metadata:
  name: torghut-alpaca
  namespace: torghut
spec:
  encryptedData:
    APCA_API_KEY_ID: AgBSIMULATEDciphertextNOTaREALkeyAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==
    APCA_API_SECRET_KEY: AgBSIMULATEDciphertextNOTaREALsecretBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB==
  template:
    metadata:
      name: torghut-alpaca
      namespace: torghut
`;
  return {
    [TORGHUT_DEPLOYMENT_PATH]: deployment,
    [TORGHUT_CONFIGMAP_PATH]: configMap,
    [TORGHUT_SEALED_SECRETS_PATH]: sealedSecrets,
  };
}
