import DriftGit
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Bytecode is code: a `__pycache__/<module>.<tag>[.opt-N].pyc` that Python would load in
/// place of its source is verified, not ignored (docs/threat-model.md, policies/README.md).
///
/// A pyc the manifest recorded with the same hash is fine as is (the scan already said so).
/// Any other — written at run time, or changed — is checked once per version (its exact
/// stat and hash, remembered in `SDIR/pyccache`): drift reads the pyc and its source beneath
/// the root and hands both, as bytes, to an interpreter with the pyc's cache tag found
/// outside the root, which says whether Python would load it at all (magic number, header
/// against the source's mtime and size or hash) and, if so, whether its code object equals
/// what that interpreter compiles from the current source. A loadable pyc that does not is
/// code drift with change `bytecode`; stale or unloadable ones are not drift (Python
/// recompiles them), nor is one whose source is gone (Python never loads it from `__pycache__`).
public struct BytecodeCheck {
    public var root: [UInt8]

    /// A pyc and its source, read to compare them.
    struct Pair {
        var source: [UInt8]
        var sourceStat: FileStat
        var pyc: [UInt8]
    }

    /// Reads a pyc and its source beneath the reader's root. Nil when the source is gone (a
    /// `__pycache__` pyc without its source is never imported: nothing to verify).
    /// - Throws: `FileReadError` when either is there but cannot be read.
    static func readPair(_ reader: FileReader, source: [UInt8], pyc: [UInt8]) throws -> Pair? {
        let src: [UInt8]
        do { src = try reader.readAll(source, limit: 64 << 20) } catch let e as FileReadError {
            if case .system(_, let code) = e.cause, [.noSuchFileOrDirectory, .notDirectory].contains(code) {
                return nil
            }
            throw e
        }
        guard case .success(let st) = lstatBytes(PathBytes.join(reader.root, source)) else { return nil }
        return Pair(source: src, sourceStat: st, pyc: try reader.readAll(pyc, limit: pycLimit))
    }
    /// Verdicts of earlier scans: pyc stat and hash of versions already found legitimate.
    public var cache: StatCache
    /// Largest pyc (and source) read to verify it.
    static let pycLimit: Int64 = 64 << 20
    /// Cached verdicts re-checked anyway (a forged `pyccache` record is found in time).
    var reverify: ReverifySlice?
    /// Interpreters to try for a cache tag (tests pin one; default: `defaultInterpreters`).
    var interpreters: (String) -> [String] = BytecodeCheck.defaultInterpreters
    /// Interpreters asked about sourceless pycs (default: every `python3.N` of `allInterpreters`).
    var sourcelessInterpreters: () -> [String] = BytecodeCheck.allInterpreters

    public init(root: [UInt8], cache: StatCache?) {
        self.root = root
        self.cache = cache ?? StatCache()
    }

    /// A pyc name split: module, cache tag, optimisation level.
    struct PycName: Equatable {
        var module: [UInt8]
        var tag: String
        var optimize: Int
        /// The source the pyc stands for: `<dir of __pycache__>/<module>.py`.
        var source: [UInt8]
    }

    static let cacheDir = Array("__pycache__".utf8)

    static func parse(_ path: [UInt8]) -> PycName? {
        let parts = path.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).map(Array.init)
        guard parts.count >= 2, parts[parts.count - 2] == cacheDir else { return nil }
        let fields = parts[parts.count - 1].split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
            .map(Array.init)
        guard fields.count == 3 || fields.count == 4, fields.last == Array("pyc".utf8), !fields[0].isEmpty,
              let tag = String(validating: fields[1], as: UTF8.self), !tag.isEmpty else { return nil }
        var optimize = 0
        if fields.count == 4 {
            guard let o = String(validating: fields[2], as: UTF8.self), ["opt-1", "opt-2"].contains(o) else {
                return nil
            }
            optimize = o == "opt-1" ? 1 : 2
        }
        let dir = Array(parts.dropLast(2).joined(separator: [UInt8(ascii: "/")]))
        let source = (dir.isEmpty ? [] : dir + [UInt8(ascii: "/")]) + fields[0] + Array(".py".utf8)
        return PycName(module: fields[0], tag: tag, optimize: optimize, source: source)
    }

    /// The only directories an interpreter is taken from: never `$PATH` (the shipped image puts
    /// `/venv/bin` first there, and `/venv` is what a hand `pip install` writes).
    static let interpreterDirectories = ["/usr/local/bin", "/usr/bin", "/bin"]

    /// Python for a cache tag like `cpython-311`: `python3.11` in `interpreterDirectories`.
    /// Each is run only if `TrustedExecutable` accepts it (root's, not group/world-writable).
    static func defaultInterpreters(_ tag: String) -> [String] {
        guard tag.hasPrefix("cpython-3"), let minor = Int(tag.dropFirst("cpython-3".count)) else { return [] }
        return interpreterDirectories.map { $0 + "/python3.\(minor)" }
    }

    /// Every `python3.N` in `interpreterDirectories` (for sourceless pycs, whose name has no tag).
    static func allInterpreters() -> [String] {
        var out: [String] = []
        for dir in interpreterDirectories {
            // `python3.N` is ASCII: a name that is not UTF-8 is no interpreter.
            let names = (directoryEntries(dir) ?? []).compactMap { String(validating: $0, as: UTF8.self) }
            for name in names.sorted() where name.hasPrefix("python3.") {
                if Int(name.dropFirst("python3.".count)) != nil { out.append(dir + "/" + name) }
            }
        }
        return out
    }

    /// Where a path stands in Python's import rules (the field notes: bytecode is imported
    /// three ways). Nil: not bytecode, an ordinary path.
    enum Role: Equatable {
        /// `__pycache__/<mod>.<tag>[.opt-N].pyc`: loaded only while its source exists.
        case cached(PycName)
        /// `<mod>.pyc` anywhere else: `SourcelessFileLoader` loads it when `<mod>.py` (here) is absent.
        case sourceless(source: [UInt8])
        /// Anything else below a `__pycache__`: Python never reads it (a `.py` or `.so` there
        /// stays code: `import __pycache__.x` would load it).
        case noise
    }

    static func role(_ path: [UInt8]) -> Role? {
        if let name = parse(path) { return .cached(name) }
        let slash = path.lastIndex(of: UInt8(ascii: "/")).map { $0 + 1 } ?? 0
        let last = path[slash...]
        let pyc = Array(".pyc".utf8)
        if last.count > pyc.count, last.suffix(pyc.count).elementsEqual(pyc) {
            return .sourceless(source: Array(path.dropLast(pyc.count)) + Array(".py".utf8))
        }
        let parents = path[..<slash].split(separator: UInt8(ascii: "/"))
        guard parents.contains(where: { $0.elementsEqual(cacheDir) }) else { return nil }
        let kept = [".py", ".so"].contains { ext in
            last.count > ext.utf8.count && last.suffix(ext.utf8.count).elementsEqual(ext.utf8)
        }
        return kept ? nil : .noise
    }

    /// What the checks found.
    public struct Outcome {
        public var changes: [FileChange]
        var issues: [WalkIssue]
        var newCache: StatCache
        /// Pycs handed to an interpreter this scan.
        var verified: Int
    }

    /// Filters the scan's changes by Python's import rules (`Role`): what Python never loads
    /// is noise (dropped); legitimate runtime bytecode is dropped; a forged pyc, a loadable
    /// sourceless pyc, or a symlink or other non-regular entry where Python would load bytecode
    /// becomes `bytecode` drift; everything else passes through.
    func apply(_ changes: [FileChange], stats: [[UInt8]: FileStat]) -> Outcome {
        var v = Judged()
        let (pending, sourceless) = triage(changes, stats: stats, &v)
        let reader = FileReader(root: root)
        verifyCached(pending, reader: reader, &v)
        verifySourceless(sourceless, reader: reader, &v)
        v.out.sort { PathBytes.less($0.path, $1.path) }
        v.fresh.entries.sort { bytesLess($0.path, $1.path) }
        return Outcome(changes: v.out, issues: v.issues, newCache: v.fresh, verified: v.verified)
    }

    /// The issue for bytecode no trusted interpreter can judge (the scan is incomplete).
    static func noInterpreter(_ tag: String?) -> String {
        let which = tag.map { "for \($0)" } ?? "without a source"
        return "bytecode \(which) cannot be verified: no trusted interpreter (root-owned, not group/world-"
            + "writable, in \(interpreterDirectories.joined(separator: ", ")))"
    }

    /// Whether any trusted interpreter here would load each sourceless pyc (magic number and
    /// header flags, what `SourcelessFileLoader` checks); nil when none could be run.
    func verifySourceless(_ pycs: [[UInt8]]) -> [Bool]? {
        if pycs.isEmpty { return [] }
        var input: [UInt8] = []
        for pyc in pycs {
            for b in [[], [], pyc, [Self.sourcelessRecord]] as [[UInt8]] { Self.put(b, into: &input) }
        }
        var loadable = [Bool](repeating: false, count: pycs.count)
        var ran = false
        for exe in sourcelessInterpreters() where trusted(exe) {
            guard let out = Self.run(exe, Self.script, input), let nl = out.firstIndex(of: 10),
                  out.count - nl - 1 == pycs.count else { continue }
            ran = true
            for (k, v) in out[(nl + 1)...].enumerated() where v == UInt8(ascii: "B") { loadable[k] = true }
        }
        return ran ? loadable : nil
    }

    /// The record's meta byte that asks the verifier about a sourceless pyc.
    static let sourcelessRecord: UInt8 = 255

    static func put(_ b: [UInt8], into input: inout [UInt8]) {
        withUnsafeBytes(of: UInt64(b.count).littleEndian) { input.append(contentsOf: $0) }
        input += b
    }

    /// The verifier, run by the interpreter with `-I -S -B`: reads records from stdin and
    /// writes its cache tag, a space, its exact version (`3.11.2`), a newline, then one byte per
    /// record: `L` loadable and equal to a fresh compile, `F` loadable and different (forged),
    /// `S` Python would not load it (stale header, wrong magic);
    /// for a sourceless record (meta byte 255), `B` when `SourcelessFileLoader` would load it, else `S`.
    static let script = """
        import sys, marshal, importlib.util
        d = sys.stdin.buffer.read()
        i = 0
        def take():
            global i
            n = int.from_bytes(d[i:i + 8], 'little'); i += 8
            b = d[i:i + n]; i += n
            return b
        vi = sys.version_info
        out = bytearray(('%s %d.%d.%d\\n' % (sys.implementation.cache_tag, vi[0], vi[1], vi[2])).encode())
        while i < len(d):
            name, src, pyc, meta = take(), take(), take(), take()
            opt = meta[0]; mtime = int.from_bytes(meta[1:9], 'little'); size = int.from_bytes(meta[9:17], 'little')
            v = b'S'
            if opt == 255:
                ok = pyc[:4] == importlib.util.MAGIC_NUMBER and len(pyc) >= 16
                out += b'B' if ok and int.from_bytes(pyc[4:8], 'little') & ~3 == 0 else b'S'
                continue
            if pyc[:4] == importlib.util.MAGIC_NUMBER and len(pyc) >= 16:
                flags = int.from_bytes(pyc[4:8], 'little')
                if flags & 1:
                    loads = not (flags & 2) or importlib.util.source_hash(src) == pyc[8:16]
                else:
                    m4 = (mtime & 0xFFFFFFFF).to_bytes(4, 'little')
                    s4 = (size & 0xFFFFFFFF).to_bytes(4, 'little')
                    loads = pyc[8:12] == m4 and pyc[12:16] == s4
                if loads:
                    try:
                        got = marshal.loads(pyc[16:])
                        fn = name.decode('utf-8', 'surrogateescape')
                        want = compile(src, fn, 'exec', dont_inherit=True, optimize=opt)
                        v = b'L' if got == want else b'F'
                    except Exception:
                        v = b'F'
            out += v
        sys.stdout.buffer.write(out)
        """

    /// Whether `exe` may run: root's alone (`TrustedExecutable`) and outside the scanned tree
    /// (an interpreter inside it is the attacker's).
    func trusted(_ exe: String) -> Bool {
        guard TrustedExecutable.check(exe) else { return false }
        return (try? WriteTarget.refuseInside(root: root, target: exe, what: "interpreter")) != nil
    }

    /// What one interpreter said: a verdict byte per pyc, and who said it.
    struct Verdicts {
        var codes: [UInt8]
        /// The interpreter that ran.
        var exe: String
        /// Its exact `sys.version_info` (`3.11.2`): another micro release compiles other code objects.
        var version: String
    }

    /// The issue for a pyc that differs from what an interpreter of another exact version compiles:
    /// not a forgery verdict, since that interpreter's compiler is not the one that wrote the venv.
    static func versionMismatch(_ v: Verdicts, venv: String) -> String {
        "bytecode cannot be verified: trusted interpreter \(v.exe) is \(v.version), the venv was made by \(venv)"
    }

    /// Runs the first trusted interpreter for `tag` that reports that very tag; nil when there is none.
    func verify(tag: String, _ items: [(PycName, [UInt8], [UInt8], FileStat)]) -> Verdicts? {
        var input: [UInt8] = []
        func put(_ b: [UInt8]) {
            withUnsafeBytes(of: UInt64(b.count).littleEndian) { input.append(contentsOf: $0) }
            input += b
        }
        for (name, pyc, src, srcStat) in items {
            put(name.source)
            put(src)
            put(pyc)
            var meta: [UInt8] = [UInt8(name.optimize)]
            let seconds = UInt64(bitPattern: srcStat.mtimeNs / 1_000_000_000)
            withUnsafeBytes(of: seconds.littleEndian) { meta.append(contentsOf: $0) }
            withUnsafeBytes(of: UInt64(bitPattern: srcStat.size).littleEndian) { meta.append(contentsOf: $0) }
            put(meta)
        }
        for exe in interpreters(tag) where trusted(exe) {
            // One start per tag: the verifier names its own tag before its verdicts.
            let head = Array((tag + " ").utf8)
            guard let out = Self.run(exe, Self.script, input), out.starts(with: head),
                  let nl = out.firstIndex(of: 10), out.count == nl + 1 + items.count,
                  let version = String(validating: out[head.count..<nl], as: UTF8.self) else { continue }
            return Verdicts(codes: Array(out[(nl + 1)...]), exe: exe, version: version)
        }
        return nil
    }

    /// Runs `exe -I -S -B -c script` with `input` on stdin; its stdout, or nil on failure.
    static func run(_ exe: String, _ script: String, _ input: [UInt8]) -> [UInt8]? {
        let env = ["PATH=/usr/bin:/bin", "LC_ALL=C.UTF-8"]
        let args = ["-I", "-S", "-B", "-c", script]
        guard let r = try? Subprocess.run(exe, arguments: args, environment: env, input: input), r.succeeded else {
            return nil
        }
        return r.standardOutput
    }
}
