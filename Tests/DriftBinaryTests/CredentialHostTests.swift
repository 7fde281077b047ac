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
}
