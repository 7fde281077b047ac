import DriftGit
import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Bytecode in site-packages is code too: RECORD lists `.pyc` files without a hash, so a
/// pyc that keeps its source's 16-byte header but holds other code would run unseen. Each
/// `__pycache__` pyc whose stat is not in the pip stat cache is verified against its source
/// by `BytecodeCheck`'s interpreter (outside the root); a loadable pyc whose code differs
/// from a fresh compile of the current source is forged. Stale, unloadable and orphaned
/// pycs are Python's to recompile, not drift; unchanged ones cost one `lstat` per scan.
/// A pyc that differs from what a verifier of another exact version than the venv's
/// (`pyvenv.cfg`) compiles is reported unverifiable, never forged: compilers differ by micro release.
struct SitePycCheck {
    /// The previous scan's pip stat cache (absolute paths).
    var cache: StatCache
    var interpreters: (String) -> [String] = BytecodeCheck.defaultInterpreters
    /// Verdicts re-checked anyway (`ReverifySlice`).
    var reverify: ReverifySlice?

    struct Outcome {
        /// Forged pycs, relative to site-packages, with the source each stands for.
        var forged: [(pyc: String, source: String)] = []
        var issues: [WalkIssue] = []
        /// Verdicts to keep: stat and hash of pycs found legitimate (absolute paths).
        var fresh: [StatCache.Record] = []
    }

    func run(_ inv: SitePackagesInventory) -> Outcome {
        var out = Outcome()
        let root = inv.path
        let reader = FileReader(root: root)
        let hashedAt = Int64(Date().timeIntervalSince1970 * 1e9)
        var cursor = StatCache.Cursor()
        var byTag: [String: [(BytecodeCheck.PycName, [UInt8], [UInt8], FileStat, FileStat, [UInt8])]] = [:]
        for e in inv.bytecode.sorted(by: { bytesLess($0.path, $1.path) }) {
            let abs = PathBytes.join(root, e.path)
            guard let name = BytecodeCheck.parse(e.path) else { continue }
            // A verdict is keyed by the pyc's content, not its stat alone: a pyc swapped for
            // other bytes under the same stat (or a forged record) is verified again.
            if let hit = cursor.digest(cache, abs, e.stat), reverify?.contains(abs) != true,
               let bytes = try? reader.readAll(e.path, limit: BytecodeCheck.pycLimit),
               (try? SHA256Hasher.digest(bytes)) == hit.digest {
                out.fresh.append(StatCache.Record(path: abs, entry: hit))
                continue
            }
            let pair: BytecodeCheck.Pair?
            do { pair = try BytecodeCheck.readPair(reader, source: name.source, pyc: e.path) } catch {
                let why = "cannot read bytecode to verify it: \(readFailureReason(error))"
                out.issues.append(WalkIssue(path: abs, message: why))
                continue
            }
            guard let pair else { continue }
            byTag[name.tag, default: []].append((name, pair.pyc, pair.source, pair.sourceStat, e.stat, e.path))
        }
        let venv = VenvVersion.read(prefix: inv.prefix)
        var verifier = BytecodeCheck(root: root, cache: nil)
        verifier.interpreters = interpreters
        for (tag, items) in byTag.sorted(by: { $0.key < $1.key }) {
            guard let verdicts = verifier.verify(tag: tag, items.map { ($0.0, $0.1, $0.2, $0.3) }) else {
                for it in items {
                    let issue = WalkIssue(path: PathBytes.join(root, it.5), message: BytecodeCheck.noInterpreter(tag))
                    out.issues.append(issue)
                }
                continue
            }
            for (k, it) in items.enumerated() {
                if verdicts.codes[k] == UInt8(ascii: "F"), let venv, venv != verdicts.version {
                    let why = BytecodeCheck.versionMismatch(verdicts, venv: venv)
                    out.issues.append(WalkIssue(path: PathBytes.join(root, it.5), message: why))
                } else if verdicts.codes[k] == UInt8(ascii: "F") {
                    out.forged.append((Self.text(it.5), Self.text(it.0.source)))
                } else if let d = try? SHA256Hasher.digest(it.1),
                          let entry = StatCache.entry(it.4, d, hashedAtNs: hashedAt) {
                    out.fresh.append(StatCache.Record(path: PathBytes.join(root, it.5), entry: entry))
                }
            }
        }
        return out
    }

    /// A path as the pip layer's text keys it (RECORD paths are text): itself when UTF-8, else
    /// its quoted form, which names no RECORD entry and so stays stray (reported, never hidden).
    static func text(_ path: [UInt8]) -> String {
        String(validating: path, as: UTF8.self) ?? PathBytes.display(path)
    }
}
