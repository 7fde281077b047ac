import DriftSystem
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A state's summary items (`StateSummary`) by directory, and the one rule for which drifted
/// paths a summary stands for. Every reader of summaries (first sightings in the merge, export
/// duty, marking an export, recovery) asks here, so none can give a path a summary it is not in.
struct SummaryIndex {
    /// A summary's identity: a directory has one summary per change and class.
    struct Key: Hashable {
        var path: String
        var change: ChangeKind
        var fileClass: FileClass?

        init(path: String, change: ChangeKind, fileClass: FileClass?) {
            self.path = path
            self.change = change
            self.fileClass = fileClass
        }

        init(_ s: DriftState.Item) { self.init(path: s.path, change: s.change, fileClass: s.fileClass) }
    }

    private var byDirectory: [String: [DriftState.Item]] = [:]
    /// Summaries of one item: no fold makes one (`StateSummary`); an older one did.
    private var hasSingles = false

    init(_ items: [DriftState.Item]) {
        for i in items where i.count != nil {
            byDirectory[i.path, default: []].append(i)
            if i.count == 1 { hasSingles = true }
        }
    }

    var isEmpty: Bool { byDirectory.isEmpty }

    /// Whether a summary of `s`'s directory, change and class is held.
    func holds(_ s: DriftState.Item) -> Bool {
        byDirectory[s.path]?.contains { $0.change == s.change && $0.fileClass == s.fileClass } == true
    }

    /// Whether summary `s` stands for the drifted path `key` (escaped) of `change` and `fileClass`.
    /// A fold puts into a summary only paths of its own change and class below its directory
    /// (directly in it: the per-directory fold; at any depth: the depth fold), so a path of
    /// another change or class is never one of its members, wherever it is.
    static func stands(_ s: DriftState.Item, for key: String, change: ChangeKind, fileClass: FileClass?) -> Bool {
        guard s.count != nil, s.change == change, s.fileClass == fileClass else { return false }
        let dir = s.path.utf8
        let path = key.utf8
        guard path.count > dir.count, path.starts(with: dir) else { return false }
        return dir.isEmpty || dir.last == UInt8(ascii: "/")
    }

    /// The summary standing for `key` of `change` and `fileClass`, the one seen first if several do.
    func covering(_ key: String, change: ChangeKind, fileClass: FileClass?) -> DriftState.Item? {
        if byDirectory.isEmpty { return nil }
        var best: DriftState.Item?
        func consider(_ dir: String) {
            guard let held = byDirectory[dir] else { return }
            for s in held where Self.stands(s, for: key, change: change, fileClass: fileClass) {
                if let b = best, (Timestamp.parse(b.firstSeen) ?? .distantFuture)
                    <= (Timestamp.parse(s.firstSeen) ?? .distantFuture) { continue }
                best = s
            }
        }
        // An escaped key is printable ASCII: its bytes are walked, not its Characters.
        let u = key.utf8
        var end = u.endIndex
        while let slash = u[..<end].lastIndex(of: UInt8(ascii: "/")) {
            end = slash
            consider(String(key[...slash]))
        }
        consider("")
        return best
    }

    /// Whether `prior`, the own item of `key` (now of `change` and `fileClass`), took its first
    /// sighting from a summary of one item above it that does not stand for it: an older fold made
    /// such summaries (a root `.env` became the summary ""), and an older merge gave every new path
    /// below one its first sighting and export. Such a path loses that export (`DriftState.merge`).
    func inheritedWrongly(_ key: String, _ prior: DriftState.Item, change: ChangeKind,
                          fileClass: FileClass?) -> Bool {
        guard hasSingles else { return false }
        func wrong(_ dir: String) -> Bool {
            byDirectory[dir]?.contains {
                $0.count == 1 && $0.firstSeen == prior.firstSeen
                    && !Self.stands($0, for: key, change: change, fileClass: fileClass)
            } == true
        }
        let u = key.utf8
        var end = u.endIndex
        while let slash = u[..<end].lastIndex(of: UInt8(ascii: "/")) {
            end = slash
            if wrong(String(key[...slash])) { return true }
        }
        return wrong("")
    }
}
