import Foundation
import Testing
@testable import DriftCore
@testable import DriftSystem

/// Issue 22: the push token goes to the configured remote's host only, over https only.
@Suite("Credentials stay with their host")
struct CredentialHostTests {
    /// A real HTTP server that asks for Basic auth on every request and records every request
    /// line and Authorization header it receives.
    static let recorder = """
        import http.server, sys
        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                with open(sys.argv[2], "a") as f:
                    f.write(self.requestline + " auth=" + str(self.headers.get("Authorization")) + "\\n")
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="git"')
                self.send_header("Content-Length", "0")
                self.end_headers()
            do_POST = do_GET
            def log_message(self, *a): pass
        http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
        """

    @Test("an http:// remote that asks for credentials gets none: exit 2 saying why, the server saw no token")
    func plainHTTP() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        try sh("echo 'X = 9' >> worker/util.py", cwd: f.workspace)
        let common = ["--manifest", f.mdir, "--state", f.state]
        #expect(try drift(["export", "--output", f.dir.sub("o")] + common).code == 0)
        let port = try freePort()
        let seen = f.dir.sub("requests.txt")
        let server = try Server(["/usr/bin/python3", "-c", Self.recorder, "\(port)", seen], name: "recorder",
                                log: f.dir.sub("server.log"))
        defer { server.stop() }
        let probe = "import socket; socket.create_connection(('127.0.0.1', \(port)))"
        for _ in 0..<100 {
            if (try? run(["python3", "-c", probe]))?.code == 0 { break }
            usleep(50_000)
        }
        let token = "ghs-token-\(UInt32.random(in: 0...UInt32.max))"
        let r = try drift(["push", "http://127.0.0.1:\(port)/worker.git"] + common, env: ["DRIFT_GIT_TOKEN": token])
        #expect(r.code == 2, "\(r.out)\(r.err)")
        #expect(r.err.contains("over plain http; drift sends a token or password only over https"), "\(r.err)")
        let requests = (try? String(contentsOfFile: seen, encoding: .utf8)) ?? ""
        #expect(requests.contains("GET /worker.git/info/refs"), "the server was asked: \(requests)")
        #expect(!requests.contains(token) && !requests.contains("Basic "), "\(requests)")
        #expect(!requests.contains(Data("x-access-token:\(token)".utf8).base64EncodedString()))
    }

    /// A real HTTP(S) server for the redirect tests. argv: bind address, port, log file, mode,
    /// redirect target (scheme://host:port), then a certificate and key for https (none: plain
    /// http). It records every connection it accepts (after the TLS handshake) and every
    /// request line with its Authorization header. Modes: `redirect` answers every request
    /// with a 302 to the target (same path); `redirect-after-auth` asks for Basic auth and
    /// redirects an authorised request; `ask` asks for Basic auth on every request.
    static let redirector = """
        import http.server, ssl, sys
        bind, port, log, mode, target = sys.argv[1:6]
        def note(line):
            with open(log, "a") as f:
                f.write(line + "\\n")
        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                auth = self.headers.get("Authorization")
                note(self.requestline + " auth=" + str(auth))
                if mode == "redirect" or (mode == "redirect-after-auth" and auth):
                    self.send_response(302)
                    self.send_header("Location", target + self.path)
                else:
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="git"')
                self.send_header("Content-Length", "0")
                self.end_headers()
            do_POST = do_GET
            def log_message(self, *a): pass
        class S(http.server.HTTPServer):
            def get_request(self):
                conn, addr = super().get_request()
                note("connection")
                return conn, addr
        s = S((bind, int(port)), H)
        if len(sys.argv) > 7:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(sys.argv[6], sys.argv[7])
            s.socket = ctx.wrap_socket(s.socket, server_side=True)
        s.serve_forever()
        """

    /// A throwaway CA and one certificate per name (`localhost` for 127.0.0.1, `other` for 127.0.0.2).
    static func certificates(_ dir: String) throws {
        try sh("""
            set -e
            cd '\(dir)'
            openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -days 2 \
              -subj /CN=drift-redirect-ca 2>/dev/null
            for pair in localhost:DNS:localhost,IP:127.0.0.1 other:IP:127.0.0.2,DNS:other.example; do
              name=${pair%%:*}; san=${pair#*:}
              openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout $name.key -out $name.csr \
                -subj /CN=$name 2>/dev/null
              printf 'subjectAltName=%s\\nbasicConstraints=CA:FALSE\\nextendedKeyUsage=serverAuth\\n' $san > $name.ext
              openssl x509 -req -in $name.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile $name.ext \
                -out $name.pem 2>/dev/null
            done
            """)
    }

    /// Starts `redirector` on `bind` and waits until it accepts connections.
    static func start(_ f: Fixture, bind: String, mode: String, target: String, tls: String?,
                      log: String) throws -> (Server, Int) {
        let port = try freePort()
        var argv = ["/usr/bin/python3", "-c", redirector, bind, "\(port)", log, mode, target]
        if let tls { argv += [f.dir.sub("\(tls).pem"), f.dir.sub("\(tls).key")] }
        let server = try Server(argv, name: "redirector \(bind)", log: f.dir.sub("server-\(bind)-\(port).log"))
        let probe = "import socket; socket.create_connection(('\(bind)', \(port))).close()"
        for _ in 0..<200 {
            if (try? run(["python3", "-c", probe]))?.code == 0 { break }
            usleep(50_000)
        }
        // The probe's own connection is not the client's: start the record afresh.
        usleep(100_000)
        try? FileManager.default.removeItem(atPath: log)
        return (server, port)
    }

    static func recorded(_ log: String) -> String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

    /// Neither the token nor any Authorization header (nor its Basic encoding) is in `text`.
    static func expectNoToken(_ text: String, _ token: String, _ what: String,
                              sourceLocation: SourceLocation = #_sourceLocation) {
        let basic = Data("x-access-token:\(token)".utf8).base64EncodedString()
        #expect(!text.contains(token) && !text.contains(basic), "\(what) received the token: \(text)",
                sourceLocation: sourceLocation)
        #expect(!text.contains("auth=Basic") && !text.contains("auth=Bearer"),
                "\(what) received an Authorization header: \(text)", sourceLocation: sourceLocation)
    }

    @Test("an https remote on 127.0.0.1 that redirects to another host: the other server gets no token",
          arguments: ["redirect", "redirect-after-auth", "to-http"])
    func offsiteRedirect(mode: String) throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        try sh("echo 'X = 10' >> worker/util.py", cwd: f.workspace)
        let common = ["--manifest", f.mdir, "--state", f.state]
        #expect(try drift(["export", "--output", f.dir.sub("o")] + common).code == 0)
        try Self.certificates(f.dir.path)
        // The other host: 127.0.0.2, over https with a certificate the same CA vouches for (so
        // only drift's own rule stops the token), or over plain http.
        let otherLog = f.dir.sub("other.txt")
        let (other, otherPort) = try Self.start(f, bind: "127.0.0.2", mode: "ask", target: "",
                                                tls: mode == "to-http" ? nil : "other", log: otherLog)
        defer { other.stop() }
        let otherURL = (mode == "to-http" ? "http" : "https") + "://127.0.0.2:\(otherPort)"
        let remoteLog = f.dir.sub("remote.txt")
        let (remote, port) = try Self.start(f, bind: "127.0.0.1", mode: mode == "to-http" ? "redirect" : mode,
                                            target: otherURL, tls: "localhost", log: remoteLog)
        defer { remote.stop() }
        let token = "ghs-redirect-\(UInt32.random(in: 0...UInt32.max))"
        let env = ["DRIFT_GIT_TOKEN": token, "DRIFT_GIT_CA_FILE": f.dir.sub("ca.pem")]
        let r = try drift(["push", "https://localhost:\(port)/worker.git"] + common, env: env)
        #expect(r.code != 0, "\(r.out)\(r.err)")
        #expect(!r.err.contains(token) && !r.out.contains(token))
        let asked = Self.recorded(remoteLog)
        #expect(asked.contains("GET /worker.git/info/refs"), "the configured remote was asked: \(asked)")
        if mode == "redirect-after-auth" {
            // The configured host asked first and got the token once: that is where it belongs.
            #expect(asked.contains("auth=Basic "), "\(asked)")
        }
        let seen = Self.recorded(otherLog)
        Self.expectNoToken(seen, token, "the other host")
        if mode != "to-http" {
            #expect(r.err.contains("redirected to another host (127.0.0.2)"), "\(r.err)")
        }
        // The same servers, asked by git itself with the same token: it follows the redirect and
        // hands the other host the token, so the recorder above would have seen it from drift.
        if mode == "redirect" {
            let askpass = f.dir.sub("askpass.sh")
            try write(askpass, "#!/bin/sh\necho \"$TOKEN\"\n")
            try sh("chmod +x '\(askpass)'")
            _ = try run(["git", "-C", f.upstream, "-c", "credential.helper=", "push",
                         "https://localhost:\(port)/worker.git", "HEAD:refs/x"],
                        env: ["GIT_ASKPASS": askpass, "TOKEN": token, "GIT_TERMINAL_PROMPT": "0",
                              "GIT_SSL_CAINFO": f.dir.sub("ca.pem")])
            #expect(Self.recorded(otherLog).contains("auth=Basic "), "git itself: \(Self.recorded(otherLog))")
        }
    }

    @Test("an https remote that redirects to the same host on another port: that server gets no token")
    func otherPortRedirect() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        try sh("echo 'X = 11' >> worker/util.py", cwd: f.workspace)
        let common = ["--manifest", f.mdir, "--state", f.state]
        #expect(try drift(["export", "--output", f.dir.sub("o")] + common).code == 0)
        try Self.certificates(f.dir.path)
        // Another server on the same address: on a shared box, another user's process.
        let otherLog = f.dir.sub("other.txt")
        let (other, otherPort) = try Self.start(f, bind: "127.0.0.1", mode: "ask", target: "", tls: "localhost",
                                                log: otherLog)
        defer { other.stop() }
        let remoteLog = f.dir.sub("remote.txt")
        let (remote, port) = try Self.start(f, bind: "127.0.0.1", mode: "redirect",
                                            target: "https://localhost:\(otherPort)", tls: "localhost", log: remoteLog)
        defer { remote.stop() }
        let token = "ghs-port-\(UInt32.random(in: 0...UInt32.max))"
        let env = ["DRIFT_GIT_TOKEN": token, "DRIFT_GIT_CA_FILE": f.dir.sub("ca.pem")]
        let r = try drift(["push", "https://localhost:\(port)/worker.git"] + common, env: env)
        #expect(r.code == 2, "\(r.out)\(r.err)")
        #expect(r.err.contains("the remote redirected to https://localhost:\(otherPort); drift sends credentials only "
            + "to https://localhost:\(port)"), "\(r.err)")
        #expect(!r.err.contains(token) && !r.out.contains(token))
        Self.expectNoToken(Self.recorded(otherLog), token, "the server on the other port")
        Self.expectNoToken(Self.recorded(remoteLog), token, "the redirecting remote")
    }

    @Test("an http:// remote that redirects to another host: no token reaches either server, exit 2 saying why")
    func plainHTTPRedirect() throws {
        let f = try Fixture()
        defer { f.dir.remove() }
        try f.bake()
        try sh("echo 'X = 11' >> worker/util.py", cwd: f.workspace)
        let common = ["--manifest", f.mdir, "--state", f.state]
        #expect(try drift(["export", "--output", f.dir.sub("o")] + common).code == 0)
        let otherLog = f.dir.sub("other.txt"), remoteLog = f.dir.sub("remote.txt")
        let (other, otherPort) = try Self.start(f, bind: "127.0.0.2", mode: "ask", target: "", tls: nil, log: otherLog)
        defer { other.stop() }
        let (remote, port) = try Self.start(f, bind: "127.0.0.1", mode: "redirect",
                                            target: "http://127.0.0.2:\(otherPort)", tls: nil, log: remoteLog)
        defer { remote.stop() }
        let token = "ghs-plain-\(UInt32.random(in: 0...UInt32.max))"
        let r = try drift(["push", "http://127.0.0.1:\(port)/worker.git"] + common, env: ["DRIFT_GIT_TOKEN": token])
        #expect(r.code == 2, "\(r.out)\(r.err)")
        #expect(r.err.contains("drift sends a token or password only over https")
                || r.err.contains("redirected to another host"), "\(r.err)")
        Self.expectNoToken(Self.recorded(remoteLog), token, "the configured http remote")
        Self.expectNoToken(Self.recorded(otherLog), token, "the other host")
    }
}
