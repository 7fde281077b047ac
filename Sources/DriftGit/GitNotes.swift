import CLibGit2
import DriftSystem
#if canImport(Glibc)
import Glibc
#endif

extension GitRepository {
    /// The note attached to `object` under `notesRef` (libgit2's `git_note_read`), or nil
    /// when the object has none.
    /// - Parameters:
    ///   - notesRef: the notes reference, e.g. `refs/notes/drift-snapshot`.
    ///   - object: the annotated object.
    /// - Returns: the note's bytes, or nil when there is no note.
    /// - Throws: `GitError` when the notes cannot be read.
    public func note(_ notesRef: String, on object: ObjectID) throws -> [UInt8]? {
        var o = object.oid
        var note: OpaquePointer?
        let rc = git_note_read(&note, pointer, notesRef, &o)
        if rc == GIT_ENOTFOUND.rawValue { return nil }
        try check(rc, "git_note_read", "\(shown): \(notesRef) \(object.hex)")
        defer { git_note_free(note) }
        guard let text = git_note_message(note) else { return [] }
        return Array(UnsafeBufferPointer(start: UnsafeRawPointer(text).assumingMemoryBound(to: UInt8.self),
                                         count: strlen(text)))
    }

    /// Attaches `bytes` to `object` as its note under `notesRef` (a new commit on that ref,
    /// `git_note_create`), replacing a note it had.
    /// - Parameters:
    ///   - notesRef: the notes reference.
    ///   - object: the annotated object.
    ///   - bytes: the note; text without NUL bytes (git notes are C strings).
    ///   - author: author and committer of the notes commit.
    /// - Returns: the note's blob id.
    /// - Throws: `GitError`, or `DriftError` for a note holding a NUL byte.
    @discardableResult
    public func setNote(_ notesRef: String, on object: ObjectID, _ bytes: [UInt8], author: GitPerson) throws
        -> ObjectID {
        guard !bytes.contains(0) else { throw DriftError(.gitFailure, path: path, "a note may not hold a NUL byte") }
        let who = try GitSignature(author)
        var o = object.oid
        var out = git_oid()
        let text = bytes.map { CChar(bitPattern: $0) } + [0]
        try check(git_note_create(&out, pointer, notesRef, who.pointer, who.pointer, &o, text, 1),
                  "git_note_create", "\(shown): \(notesRef) \(object.hex)")
        return ObjectID(out)
    }
}
