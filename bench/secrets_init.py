"""Cold-start init of a hello bootstrap: process start to its first Runtime API `next` call,
median of N, with and without two secrets read from a local moto (python3 with moto[server]).

Usage: build a hello app twice with `nextr build` (without, then with `[secrets]` naming
`ssm:/shop/{stage}/db-url` and `secretsmanager:shop/stripe`), unzip the hello route's zip of
each into `plain/` and `secrets/` of the current folder, then `python3 secrets_init.py 21`.
Results: bench/RESULTS.md, "Secrets"."""
import json, os, socket, statistics, subprocess, sys, time, urllib.request

N = int(sys.argv[1]) if len(sys.argv) > 1 else 15
moto_port = 5130
moto = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(moto_port)],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
endpoint = f"http://127.0.0.1:{moto_port}"
for _ in range(100):
    try:
        urllib.request.urlopen(endpoint + "/moto-api/data.json"); break
    except Exception:
        time.sleep(0.1)

def call(service, target, body):
    req = urllib.request.Request(endpoint + "/", data=json.dumps(body).encode(), method="POST", headers={
        "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target,
        "Authorization": f"AWS4-HMAC-SHA256 Credential=testing/20240101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=0"})
    urllib.request.urlopen(req).read()

call("ssm", "AmazonSSM.PutParameter", {"Name": "/shop/dev/db-url", "Value": "v1", "Type": "SecureString"})
call("secretsmanager", "secretsmanager.CreateSecret", {"Name": "shop/stripe", "SecretString": "v2"})

def once(bootstrap, extra):
    srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(1)
    port = srv.getsockname()[1]
    env = {"PATH": "/usr/bin:/bin", "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{port}",
           "AWS_LAMBDA_FUNCTION_NAME": "measure-hello", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
           "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST", "AWS_REGION": "us-east-1",
           "NEXTR_RESPONSE_MODE": "buffered", **extra}
    start = time.perf_counter()
    p = subprocess.Popen([bootstrap], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    srv.settimeout(10)
    conn, _ = srv.accept()
    data = b""
    while b"\r\n" not in data:
        data += conn.recv(4096)
    elapsed = time.perf_counter() - start
    assert b"/runtime/invocation/next" in data, data
    p.kill(); p.wait(); conn.close(); srv.close()
    return elapsed * 1000

secrets_env = {"NEXTR_SECRETS": json.dumps([
    {"env": "DB_URL", "store": "ssm", "name": "/shop/dev/db-url"},
    {"env": "STRIPE_KEY", "store": "secretsmanager", "name": "shop/stripe"}]),
    "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
cases = [("no secrets feature", "plain/bootstrap", {}),
         ("secrets feature, no secret", "secrets/bootstrap", {}),
         ("secrets feature, 2 secrets from local moto", "secrets/bootstrap", secrets_env)]
try:
    for name, b, extra in cases:
        once(b, extra)  # warm the page cache
        times = sorted(once(b, extra) for _ in range(N))
        print(f"{name}: median {statistics.median(times):.1f} ms (min {times[0]:.1f}, max {times[-1]:.1f}, N={N})")
finally:
    moto.kill()
