import Foundation
import Testing
@testable import DriftCore
@testable import DriftGit
@testable import DriftSystem

/// A one-line rendering of a node for comparisons: scalars in double quotes, `[a, b]`, `{k: v}`.
func yamlRender(_ node: YAMLNode?) -> String {
    guard let node else { return "nil" }
    switch node {
    case .scalar(let s): return "\"" + s.string + "\""
    case .sequence(let items, _): return "[" + items.map(yamlRender).joined(separator: ", ") + "]"
    case .mapping(let pairs, _):
        return "{" + pairs.map { $0.key.string + ": " + yamlRender($0.value) }.joined(separator: ", ") + "}"
    }
}

@Suite("YAML subset")
struct YAMLSubsetTests {
    static let sample = """
        # a comment line
        schema: drift.policy/1   # a trailing comment
        ignore:
          - "**/__pycache__/"
          - '*.pyc'
          - logs/
          - a#b
          - data[0-9].csv
        config: [".env", '*.pem', plain text, "esc\\t\\u00e9\\x41\\U0001F600\\"\\\\"]
        data: []
        code:
        generated: {}
        pip:
          allow: []
        waivers:
          - {id: x, reason: "it's \\"fine\\"", expires: "2026-12-31"}
          - id: y
            reason: 'it''s'
            expires: 2027-01-01
        same_indent:
        - a
        -
        - - nested
          - more
        multi_line_flow: [
          one,   # a comment inside
          "two",
        ]
        "quoted key": ~
        'single': {a: [1, {b: c}], d: }
        url: http://example.com/x:y
        """

    @Test("every supported construct parses to the expected node")
    func supported() throws {
        let node = try YAMLSubset.parse(Array(Self.sample.utf8))
        let want = """
            {schema: "drift.policy/1", ignore: ["**/__pycache__/", "*.pyc", "logs/", "a#b", "data[0-9].csv"], \
            config: [".env", "*.pem", "plain text", "esc\téA😀"\\"], data: [], code: "", generated: {}, \
            pip: {allow: []}, waivers: [{id: "x", reason: "it's "fine"", expires: "2026-12-31"}, \
            {id: "y", reason: "it's", expires: "2027-01-01"}], same_indent: ["a", "", ["nested", "more"]], \
            multi_line_flow: ["one", "two"], quoted key: "~", single: {a: ["1", {b: "c"}], d: ""}, \
            url: "http://example.com/x:y"}
            """
        #expect(yamlRender(node) == want)
        let pairs = node?.mapping ?? []
        let lines = pairs.map { "\($0.key.string ?? "")@\($0.key.line)/\($0.value.line)" }
        #expect(lines == ["schema@2/2", "ignore@3/4", "config@9/9", "data@10/10", "code@11/11", "generated@12/12",
                          "pip@13/14", "waivers@15/16", "same_indent@20/21", "multi_line_flow@25/25",
                          "quoted key@29/29", "single@30/30", "url@31/31"])
    }

    @Test("blank, comment-only, BOM, CRLF and '---' documents")
    func documents() throws {
        #expect(try YAMLSubset.parse([]) == nil)
        #expect(try YAMLSubset.parse(Array("# only\n\n   # comments\n".utf8)) == nil)
        let crlf = try YAMLSubset.parse([0xEF, 0xBB, 0xBF] + Array("---\r\na: [b]\r\n...\r\n# end\r\n".utf8))
        #expect(yamlRender(crlf) == "{a: [\"b\"]}")
        #expect(crlf?.line == 2)
        #expect(yamlRender(try YAMLSubset.parse(Array("'just a string'".utf8))) == "\"just a string\"")
    }

    @Test("what is not in the subset is one clear error with its line", arguments: [
        ("a: &x 1\n", 1, "unsupported YAML: anchors ('&x')"),
        ("a: *x\n", 1, "unsupported YAML: aliases ('*x')"),
        ("ignore:\n  - *.log\n", 2, "quote a value that starts with '*'"),
        ("ignore:\n  - !keep/**\n", 2, "unsupported YAML: tags ('!keep/**')"),
        ("a: |\n  text\n", 1, "unsupported YAML: block scalars"),
        ("a: >-\n  text\n", 1, "unsupported YAML: block scalars"),
        ("a: 1\n---\nb: 2\n", 2, "unsupported YAML: more than one document"),
        ("%YAML 1.2\n---\na: 1\n", 1, "unsupported YAML: directives"),
        ("--- a: 1\n", 1, "unsupported YAML: content on the '---' line"),
        ("? a\n: b\n", 1, "unsupported YAML: complex keys"),
        ("a: [b: c]\n", 1, "unsupported YAML: 'key: value' inside [ ]"),
        ("a: {[b]: c}\n", 1, "unsupported YAML: [ ] or { } as a key"),
        ("a: 'x\n  y'\n", 1, "unsupported YAML: a quoted string that does not end on its line"),
        ("a: 1\nb: 2\na: 3\n", 3, "YAML error: duplicate key 'a' (first on line 1)"),
        ("w: [{id: x,\n  id: y}]\n", 2, "YAML error: duplicate key 'id' (first on line 1)"),
        ("a:\n\t- x\n", 2, "YAML error: tab used for indentation"),
        ("a:\n  \t- x\n", 2, "YAML error: tab used for indentation"),
        ("a:\n-\tb: c\n", 2, "YAML error: tab used for indentation"),
        ("a: [x,\n  y\n", 1, "YAML error: '[' opened on this line is never closed"),
        ("a: {x: y\n", 1, "YAML error: '{' opened on this line is never closed"),
        ("a: \"\\q\"\n", 1, "YAML error: unknown escape '\\q'"),
        ("a: \"\\uD800\"\n", 1, "YAML error: escape '\\uD800' is not a Unicode character"),
        ("a: \"\\x4\"\n", 1, "needs 2 hex digits"),
        ("a: b: c\n", 1, "YAML error: a value containing ': ' must be quoted"),
        ("a: x\n  y\n", 2, "YAML error: bad indentation"),
        ("a:\n    b: 1\n  c: 2\n", 3, "YAML error: bad indentation"),
        ("a: - b\n", 1, "YAML error: a '- ' list must start on the line after its key"),
        ("- a\nb: c\n", 2, "YAML error: bad indentation or content after the document"),
        ("a: [b] c\n", 1, "YAML error: unexpected 'c' after the value"),
        ("a: \"b\"c\n", 1, "YAML error: unexpected 'c' after the value"),
        ("a: [b,,c]\n", 1, "YAML error: unexpected ','"),
        ("a: [b c\n d]\n", 2, "YAML error: expected ',' or ']'"),
        ("a: {b}\n", 1, "YAML error: expected ':' after the key 'b'"),
        ("a: @x\n", 1, "YAML error: unexpected '@x'"),
        ("a: 1\n- b\n", 2, "YAML error: a '- ' list entry where a 'key:' was expected"),
        ("a: 1\nb\n", 2, "YAML error: expected 'key: value', found 'b'"),
        ("a: x\u{1}\n", 1, "YAML error: control character 0x1"),
        ("a: x\ry\n", 1, "YAML error: carriage return without a line feed"),
        ("\"a\": [1]: b\n", 1, "unsupported YAML: a quoted string or [ ] / { } as a key"),
    ])
    func refused(yaml: String, line: Int, expected: String) {
        #expect(throws: YAMLError.self) { try YAMLSubset.parse(Array(yaml.utf8)) }
        do {
            _ = try YAMLSubset.parse(Array(yaml.utf8))
        } catch {
            #expect(error.line == line, "\(error.message)")
            #expect(error.message.contains(expected), "\(error.message)")
        }
    }

    @Test("nesting stops at 64 levels, input at 1 MiB")
    func bounds() throws {
        let ok = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect(yamlRender(try YAMLSubset.parse(Array(ok.utf8))).hasPrefix("[[[["))
        let mixed = (0..<63).map { String(repeating: " ", count: 2 * $0) + "k:\n" }.joined()
            + String(repeating: " ", count: 126) + "- leaf\n"
        let deepest = yamlRender(try YAMLSubset.parse(Array(mixed.utf8)))
        #expect(deepest.hasSuffix("[\"leaf\"]" + String(repeating: "}", count: 63)))
        #expect(throws: YAMLError.self) { try YAMLSubset.parse(Array(("[" + ok + "]").utf8)) }
        let big = Array("a: b\n".utf8) + [UInt8](repeating: UInt8(ascii: "#"), count: YAMLSubset.maxBytes)
        #expect(throws: YAMLError(line: 1, message: "YAML error: document larger than 1 MiB (1048581 bytes)")) {
            try YAMLSubset.parse(big)
        }
    }

    /// Everything a parsed policy holds, one field a line.
    static func summary(_ p: Policy) -> [String] {
        func list(_ l: PatternList) -> String { l.patterns.map { "\($0.text)@\($0.line)" }.joined(separator: " ") }
        return ["ignore: " + list(p.ignore), "code: " + list(p.code), "config: " + list(p.config),
                "data: " + list(p.data), "secrets: " + list(p.secrets), "generated: " + list(p.generated),
                "size_limit: \(p.sizeLimit)", "deadline: \(p.deadline?.text ?? "-")", "pip.allow: \(p.pipAllow)",
                "waivers: " + p.waivers.map { "\($0.id)|\($0.reason)|\($0.expiresText)" }.joined(separator: " ")]
    }

    static var repoRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }

    /// The values Yams produced for these files before drift had its own parser.
    @Test("shipped policies and corpus files parse to the same Policy as with Yams")
    func shippedPolicies() throws {
        let defaultSummary = [
            "ignore: **/__pycache__/@5 *.pyc@6 logs/@7 *.log@8 .cache/@9 tmp/@10", "code: ",
            "config: .env@12 .env.*@13 *.pem@14 *.key@15", "data: packages/models/@22",
            "secrets: .env@17 .env.*@18 *.pem@19 *.key@20", "generated: ", "size_limit: 16777216", "deadline: -",
            "pip.allow: []", "waivers: ",
        ]
        // The shipped default no longer ignores bytecode (it is checked as code: docs/threat-model.md).
        let shippedSummary = [
            "ignore: logs/@5 *.log@6 .cache/@7 tmp/@8", "code: ",
            "config: .env@10 .env.*@11 *.pem@12 *.key@13", "data: packages/models/@41",
            "secrets: .env@15 .env.*@16 *.pem@17 *.key@18", "generated: ", "size_limit: 16777216", "deadline: -",
            "pip.allow: []", "waivers: ",
        ]
        #expect(Self.summary(try Policy.builtIn()) == shippedSummary)
        #expect(Self.summary(try Policy.load(path: Self.repoRoot.path + "/policies/default.yaml")) == shippedSummary)
        #expect(Self.summary(try Policy.load(path: Fuzz.corpusRoot + "/policy/default.yaml")) == defaultSummary)
        let full = try Policy.load(path: Fuzz.corpusRoot + "/policy/full.yaml")
        #expect(Self.summary(full) == [
            "ignore: **/__pycache__/@2 !keep/**@2 a[!b]c?d*@2 /anchored/@2 x\\*y@2", "code: config/*.py@5",
            "config: .env@3 [[:alpha:]]*.pem@3", "data: packages/models/@4", "secrets: .env@6",
            "generated: build/**@7", "size_limit: 16777216", "deadline: end-of-day Europe/Berlin",
            "pip.allow: [\"debugpy\"]", "waivers: 0123456789abcdef0123|r|2026-12-31",
        ])
        #expect(full.source == (try readWholeFile(Fuzz.corpusRoot + "/policy/full.yaml")))
    }

    @Test("the example in policies/README.md is a valid policy")
    func readmeExample() throws {
        let readme = String(decoding: try readWholeFile(Self.repoRoot.path + "/policies/README.md"), as: UTF8.self)
        let blocks = readme.components(separatedBy: "```yaml\n").dropFirst()
        let example = try #require(blocks.first?.components(separatedBy: "```").first)
        let p = try Policy.parse(Array(example.utf8), file: "README.md")
        #expect(p.waivers.map(\.expiresText) == ["2026-12-31"])
        #expect(p.ignore.patterns.count == 4)
    }

    @Test("a parse error becomes file:line: problem")
    func policyMessage() {
        #expect(throws: DriftError(.policyInvalid, path: "p.yaml", line: 3,
                                   "YAML error: tab used for indentation (indent with spaces)")) {
            try Policy.parse(Array("ignore:\n  - a\n\t- b\n".utf8), file: "p.yaml")
        }
        #expect(throws: DriftError(.policyInvalid, path: "p.yaml", line: 1,
                                   "unsupported YAML: tags ('!x'); quote a value that starts with '!'")) {
            try Policy.parse(Array("ignore: [!x]\n".utf8), file: "p.yaml")
        }
    }
}
