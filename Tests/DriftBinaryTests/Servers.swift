import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem
#if canImport(Glibc)
import Glibc
#endif

/// A real server started by a test in its own process group; `stop()` (in a `defer`)
/// kills the whole group, so nothing it forked outlives the test.
final class Server {
    let pid: pid_t
    let name: String
    let log: String
    private var stopped = false

    init(_ argv: [String], name: String, log: String, env: [String: String] = [:]) throws {
        self.name = name
        self.log = log
        var fa = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fa)
        defer { posix_spawn_file_actions_destroy(&fa) }
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&fa, 1, 2)
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attr, 0)
        var environment = ProcessInfo.processInfo.environment
        for (k, v) in env { environment[k] = v }
        let cargs = argv.map { strdup($0) } + [nil]
        let cenv = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            cargs.forEach { free($0) }
            cenv.forEach { free($0) }
        }
        var p: pid_t = 0
        let rc = posix_spawn(&p, argv[0], &fa, &attr, cargs, cenv)
        guard rc == 0 else { throw DriftError("cannot start \(name): \(String(cString: strerror(rc)))") }
        pid = p
    }

    /// Kills the process group, reaps the leader and waits (up to 2 s) until no member
    /// still runs; safe to call twice.
    func stop() {
        guard !stopped else { return }
        stopped = true
        kill(-pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        for _ in 0..<100 where groupAlive { usleep(20_000) }
    }

    /// Whether a process of the group still runs (zombies awaiting their reaper do not count).
    var groupAlive: Bool {
        let procs = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for p in procs where p.allSatisfy(\.isNumber) {
            guard let stat = try? String(contentsOfFile: "/proc/\(p)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            // Fields after "(comm)": state, ppid, pgrp, …
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 2, fields[2] == "\(pid)", fields[0] != "Z" { return true }
        }
        return false
    }

    deinit { stop() }

    /// The server's log, for failure messages.
    var logText: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw DriftError("socket failed") }
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = 0
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ok = withUnsafeMutablePointer(to: &addr) { p in
        p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
            bind(fd, sa, len) == 0 && getsockname(fd, sa, &len) == 0
        }
    }
    guard ok else { throw DriftError("bind failed") }
    return Int(UInt16(bigEndian: addr.sin_port))
}

/// Waits until something accepts connections on 127.0.0.1:`port`.
func waitForPort(_ port: Int, server: Server, seconds: Double = 10) throws {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        let rc = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        close(fd)
        if rc == 0 { return }
        usleep(20_000)
    }
    throw DriftError("\(server.name) did not listen on port \(port): \(server.logText)")
}

/// The first of `paths` that is an executable file.
func executable(_ paths: [String]) -> String? {
    paths.first { FileManager.default.isExecutableFile(atPath: $0) }
}

enum Servers {
    /// `git daemon --enable=receive-pack` serving every repository under `base`.
    static func gitDaemon(base: String, dir: String) throws -> (Server, String) {
        let port = try freePort()
        let execPath = try sh("git --exec-path").trimmingCharacters(in: .whitespacesAndNewlines)
        let s = try Server([execPath + "/git-daemon", "--reuseaddr", "--export-all", "--enable=receive-pack",
                            "--listen=127.0.0.1", "--port=\(port)", "--base-path=\(base)", base],
                           name: "git daemon", log: dir + "/git-daemon.log")
        try waitForPort(port, server: s)
        return (s, "git://127.0.0.1:\(port)")
    }

    /// OpenSSH's sshd on a loopback port with its own config, a throwaway ed25519 host key
    /// and one authorized key (the client key `dir/client_key`). Returns the server, its
    /// port and the login user.
    static func sshd(dir: String) throws -> (Server, Int, String) {
        guard let sshd = executable(["/usr/sbin/sshd"]) else { throw DriftError("openssh-server is not installed") }
        let port = try freePort()
        try sh("""
            ssh-keygen -q -t ed25519 -N '' -C drift-test-host -f '\(dir)/host_key' && \
            ssh-keygen -q -t ed25519 -N '' -C drift-test-client -f '\(dir)/client_key' && \
            cp '\(dir)/client_key.pub' '\(dir)/authorized_keys' && chmod 600 '\(dir)/authorized_keys'
            """)
        let root = getuid() == 0
        if root { try? FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true) }
        let user = try sh("id -un").trimmingCharacters(in: .whitespacesAndNewlines)
        try write(dir + "/sshd_config", """
            Port \(port)
            ListenAddress 127.0.0.1
            HostKey \(dir)/host_key
            PidFile \(dir)/sshd.pid
            AuthorizedKeysFile \(dir)/authorized_keys
            PubkeyAuthentication yes
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            PermitRootLogin prohibit-password
            AllowUsers \(user)
            StrictModes no
            UsePAM no
            LogLevel ERROR

            """)
        let s = try Server([sshd, "-D", "-e", "-f", dir + "/sshd_config"], name: "sshd", log: dir + "/sshd.log")
        try waitForPort(port, server: s)
        return (s, port, user)
    }

    /// nginx + fcgiwrap + git http-backend over TLS with basic auth (user `x-access-token`,
    /// password `token`). Serves `projectRoot` on two ports: `good` with a certificate for
    /// `localhost` and `wrongName` with one for `other.example`, both from `dir/ca.pem`.
    static func nginx(projectRoot: String, dir: String,
                      token: String) throws -> (servers: [Server], good: Int, wrongName: Int) {
        guard let nginx = executable(["/usr/sbin/nginx"]) else { throw DriftError("nginx is not installed") }
        guard let fcgiwrap = executable(["/usr/sbin/fcgiwrap"]) else { throw DriftError("fcgiwrap is not installed") }
        let backend = try sh("git --exec-path").trimmingCharacters(in: .whitespacesAndNewlines) + "/git-http-backend"
        try sh("""
            set -e
            cd '\(dir)'
            openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -days 2 \
              -subj /CN=drift-test-ca 2>/dev/null
            for name in localhost other.example; do
              openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout $name.key -out $name.csr \
                -subj /CN=$name 2>/dev/null
              printf 'subjectAltName=DNS:%s\\nbasicConstraints=CA:FALSE\\n' $name > $name.ext
              printf 'extendedKeyUsage=serverAuth\\n' >> $name.ext
              openssl x509 -req -in $name.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile $name.ext \
                -out $name.pem 2>/dev/null
            done
            printf 'x-access-token:%s\\n' "$(printf '%s' "$TOKEN" | openssl passwd -apr1 -stdin)" > htpasswd
            mkdir -p tmp
            """, env: ["TOKEN": token])
        let good = try freePort(), wrong = try freePort()
        func server(_ port: Int, _ name: String) -> String {
            """
              server {
                listen 127.0.0.1:\(port) ssl;
                ssl_certificate \(dir)/\(name).pem;
                ssl_certificate_key \(dir)/\(name).key;
                location / {
                  auth_basic "git";
                  auth_basic_user_file \(dir)/htpasswd;
                  client_max_body_size 0;
                  fastcgi_pass unix:\(dir)/fcgi.sock;
                  fastcgi_param SCRIPT_FILENAME \(backend);
                  fastcgi_param QUERY_STRING $query_string;
                  fastcgi_param REQUEST_METHOD $request_method;
                  fastcgi_param CONTENT_TYPE $content_type;
                  fastcgi_param CONTENT_LENGTH $content_length;
                  fastcgi_param PATH_INFO $uri;
                  fastcgi_param REMOTE_USER $remote_user;
                  fastcgi_param REMOTE_ADDR $remote_addr;
                  fastcgi_param SERVER_PROTOCOL $server_protocol;
                  fastcgi_param GIT_PROJECT_ROOT \(projectRoot);
                  fastcgi_param GIT_HTTP_EXPORT_ALL "";
                }
              }

            """
        }
        try write(dir + "/nginx.conf", """
            \(getuid() == 0 ? "user root;" : "")
            worker_processes 1;
            daemon off;
            pid \(dir)/nginx.pid;
            error_log \(dir)/nginx-error.log;
            events { worker_connections 64; }
            http {
              access_log \(dir)/access.log;
              client_body_temp_path \(dir)/tmp/body;
              fastcgi_temp_path \(dir)/tmp/fastcgi;
              proxy_temp_path \(dir)/tmp/proxy;
              uwsgi_temp_path \(dir)/tmp/uwsgi;
              scgi_temp_path \(dir)/tmp/scgi;
            \(server(good, "localhost"))\(server(wrong, "other.example"))}

            """)
        let fcgi = try Server([fcgiwrap, "-c", "2", "-s", "unix:\(dir)/fcgi.sock"], name: "fcgiwrap",
                              log: dir + "/fcgiwrap.log")
        let web: Server
        do {
            web = try Server([nginx, "-p", dir, "-c", dir + "/nginx.conf"], name: "nginx", log: dir + "/nginx.log")
        } catch {
            fcgi.stop()
            throw error
        }
        do {
            try waitForPort(good, server: web)
            try waitForPort(wrong, server: web)
        } catch {
            web.stop()
            fcgi.stop()
            throw error
        }
        return ([web, fcgi], good, wrong)
    }
}
