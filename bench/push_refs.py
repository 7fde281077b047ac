#!/usr/bin/env python3
"""drift benchmark: `drift push` against a remote with many refs (issue 27), beside `git ls-remote`.

Usage: bench/push_refs.py --drift BIN [--refs 0,20000] [--runs 3] [--work DIR]

Builds a small upstream, bakes a manifest, exports one hotfix (DRIFT_HOST=bench-host), then
for each ref count R makes a bare remote holding R extra refs (refs/drift/host-K/<id>, packed,
as a fleet's server has them) and serves it three ways on loopback: file://, ssh:// (OpenSSH
sshd with a throwaway host key and client key) and https:// (nginx + fcgiwrap +
git http-backend, throwaway CA, basic auth). Each run pushes from a fresh copy of the state
dir after deleting the pushed ref on the remote, and times `git ls-remote` of the same URL;
median of --runs: wall, user+sys CPU. What push pays beyond ls-remote is drift's own.
"""
import argparse, os, shutil, socket, subprocess, sys, time

ENV = dict(os.environ, GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="b@example.com",
           GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="b@example.com")


def sh(cmd, env=None, cwd=None):
    return subprocess.run(cmd, shell=True, check=True, capture_output=True, text=True, cwd=cwd,
                          env=dict(ENV, **(env or {}))).stdout


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_port(port):
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on {port}")


def timed(cmd, env=None, runs=3, before=None):
    samples = []
    for _ in range(runs):
        if before:
            before()
        out = subprocess.run(["/usr/bin/time", "-f", "%e %U %S", "/bin/sh", "-c", cmd], capture_output=True, text=True,
                             env=dict(ENV, **(env or {})))
        if out.returncode != 0:
            raise SystemExit(f"{cmd} failed: {out.stderr}")
        wall, user, sys_ = out.stderr.strip().splitlines()[-1].split()
        samples.append((float(wall), float(user) + float(sys_)))
    samples.sort()
    return samples[len(samples) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--drift", required=True)
    ap.add_argument("--refs", default="0,20000")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--work", default="/tmp/drift-bench-push")
    a = ap.parse_args()
    drift = os.path.abspath(a.drift)
    w = a.work
    shutil.rmtree(w, ignore_errors=True)
    os.makedirs(w)
    up, ws, mdir, state, out = (os.path.join(w, x) for x in ("up", "ws", "mdir", "state", "out"))
    sh(f"git init -q -b main '{up}' && cd '{up}' && mkdir app && for i in $(seq 1 50); do echo v=$i > app/m$i.py;"
       f" done && git add -A && git commit -qm base && mkdir -p '{ws}' && git archive HEAD | tar -x -C '{ws}'")
    sh(f"'{drift}' manifest create --root '{ws}' --repo '{up}' --output '{mdir}'")
    sh(f"echo 'FIX = 1' >> '{ws}/app/m1.py'")
    sh(f"'{drift}' export --manifest '{mdir}' --state '{state}' --output '{out}'", env={"DRIFT_HOST": "bench-host"})
    head = sh(f"git bundle list-heads '{out}/drift.bundle'").split()[1]
    rid = head.rsplit("/", 1)[1]
    pushed_ref = f"refs/drift/bench-host/{rid}"

    servers = []
    try:
        # ssh: sshd on loopback with its own keys.
        sdir = os.path.join(w, "ssh")
        os.makedirs(sdir)
        sport = free_port()
        sh(f"cd '{sdir}' && ssh-keygen -q -t ed25519 -N '' -f host_key && ssh-keygen -q -t ed25519 -N '' -f client_key"
           f" && cp client_key.pub authorized_keys && chmod 600 authorized_keys")
        os.makedirs("/run/sshd", exist_ok=True)
        user = sh("id -un").strip()
        open(os.path.join(sdir, "sshd_config"), "w").write(
            f"Port {sport}\nListenAddress 127.0.0.1\nHostKey {sdir}/host_key\nPidFile {sdir}/sshd.pid\n"
            f"AuthorizedKeysFile {sdir}/authorized_keys\nPubkeyAuthentication yes\nPasswordAuthentication no\n"
            f"PermitRootLogin prohibit-password\nAllowUsers {user}\nStrictModes no\nUsePAM no\nLogLevel ERROR\n")
        servers.append(subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", sdir + "/sshd_config"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
        wait_port(sport)
        hostkey = open(os.path.join(sdir, "host_key.pub")).read().split()[:2]
        open(os.path.join(sdir, "known_hosts"), "w").write(f"[127.0.0.1]:{sport} {' '.join(hostkey)}\n")
        # https: nginx + fcgiwrap + git http-backend, a throwaway CA, basic auth.
        hdir = os.path.join(w, "https")
        os.makedirs(os.path.join(hdir, "tmp"))
        hport = free_port()
        backend = sh("git --exec-path").strip() + "/git-http-backend"
        sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -days 2"
           " -subj /CN=bench-ca 2>/dev/null && openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
           " -keyout localhost.key -out localhost.csr -subj /CN=localhost 2>/dev/null"
           " && printf 'subjectAltName=DNS:localhost\\nbasicConstraints=CA:FALSE\\nextendedKeyUsage=serverAuth\\n'"
           " > localhost.ext && openssl x509 -req -in localhost.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2"
           " -extfile localhost.ext -out localhost.pem 2>/dev/null"
           " && printf 'x-access-token:%s\\n' \"$(printf token | openssl passwd -apr1 -stdin)\" > htpasswd", cwd=hdir)
        root_user = "user root;" if os.getuid() == 0 else ""
        open(os.path.join(hdir, "nginx.conf"), "w").write(f"""{root_user}
worker_processes 1; daemon off; pid {hdir}/nginx.pid; error_log {hdir}/error.log;
events {{ worker_connections 64; }}
http {{
  access_log off; client_body_temp_path {hdir}/tmp/body; fastcgi_temp_path {hdir}/tmp/fastcgi;
  proxy_temp_path {hdir}/tmp/proxy; uwsgi_temp_path {hdir}/tmp/uwsgi; scgi_temp_path {hdir}/tmp/scgi;
  server {{
    listen 127.0.0.1:{hport} ssl; ssl_certificate {hdir}/localhost.pem; ssl_certificate_key {hdir}/localhost.key;
    location / {{
      auth_basic "git"; auth_basic_user_file {hdir}/htpasswd; client_max_body_size 0;
      fastcgi_pass unix:{hdir}/fcgi.sock; fastcgi_param SCRIPT_FILENAME {backend};
      fastcgi_param QUERY_STRING $query_string; fastcgi_param REQUEST_METHOD $request_method;
      fastcgi_param CONTENT_TYPE $content_type; fastcgi_param CONTENT_LENGTH $content_length;
      fastcgi_param PATH_INFO $uri; fastcgi_param REMOTE_USER $remote_user;
      fastcgi_param GIT_PROJECT_ROOT {w}; fastcgi_param GIT_HTTP_EXPORT_ALL "";
    }}
  }}
}}
""")
        servers.append(subprocess.Popen(["/usr/sbin/fcgiwrap", "-c", "2", "-s", f"unix:{hdir}/fcgi.sock"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
        servers.append(subprocess.Popen(["/usr/sbin/nginx", "-p", hdir, "-c", hdir + "/nginx.conf"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
        wait_port(hport)

        print(f"load {os.getloadavg()[0]:.1f}; median of {a.runs} runs (wall / user+sys CPU)", flush=True)
        print("| transport | remote refs | drift push | git ls-remote |")
        print("|---|---|---|---|")
        for n in [int(x) for x in a.refs.split(",")]:
            name = f"remote-{n}.git"
            remote = os.path.join(w, name)
            sh(f"git clone -q --bare '{up}' '{remote}' && git --git-dir='{remote}' config http.receivepack true")
            if n:
                c = sh(f"git --git-dir='{remote}' rev-parse HEAD").strip()
                lines = "".join(f"create refs/drift/host-{k}/{k:020x} {c}\n" for k in range(n))
                subprocess.run(["git", "--git-dir=" + remote, "update-ref", "--stdin"], input=lines, text=True,
                               check=True)
                sh(f"git --git-dir='{remote}' pack-refs --all")
            urls = [
                ("file://", f"file://{remote}", {}, {}),
                ("ssh://", f"ssh://{user}@127.0.0.1:{sport}{remote}",
                 {"DRIFT_GIT_SSH_KEY": f"{sdir}/client_key", "DRIFT_GIT_KNOWN_HOSTS": f"{sdir}/known_hosts"},
                 {"GIT_SSH_COMMAND": f"ssh -i {sdir}/client_key -o UserKnownHostsFile={sdir}/known_hosts "
                                     f"-o StrictHostKeyChecking=yes"}),
                ("https://", f"https://localhost:{hport}/{name}",
                 {"DRIFT_GIT_TOKEN": "token", "DRIFT_GIT_CA_FILE": f"{hdir}/ca.pem"},
                 {"GIT_SSL_CAINFO": f"{hdir}/ca.pem"}),
            ]
            for label, url, denv, genv in urls:
                run_state = os.path.join(w, "state-run")

                def fresh():
                    shutil.rmtree(run_state, ignore_errors=True)
                    shutil.copytree(state, run_state, symlinks=True)
                    subprocess.run(["git", "--git-dir=" + remote, "update-ref", "-d", pushed_ref], check=False)
                pw, pc = timed(f"'{drift}' push '{url}' --id {rid} --manifest '{mdir}' --state '{run_state}'",
                               env=denv, runs=a.runs, before=fresh)
                ls_url = url.replace("https://", "https://x-access-token:token@")
                lw, lc = timed(f"git ls-remote '{ls_url}' >/dev/null", env=genv, runs=a.runs)
                print(f"| {label} | {n:,} | {pw:.3f} s / {pc:.3f} s | {lw:.3f} s / {lc:.3f} s |", flush=True)
            assert pushed_ref in sh(f"git --git-dir='{remote}' for-each-ref --format='%(refname)' refs/drift/bench-host/")
    finally:
        # Each server leads its own process group (fcgiwrap's workers, sshd's sessions): stop it whole.
        for s in servers:
            os.killpg(s.pid, 15)
            s.wait()


if __name__ == "__main__":
    main()
