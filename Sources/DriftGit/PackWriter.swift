import CLibGit2
import DriftSystem
#if canImport(Glibc)
import Glibc
#endif

/// Streams one git pack (version 2, no deltas of its own) and writes its version-2 index,
/// so a bake creates two files instead of one loose object per file.
///
/// Whole objects are deflated at zlib level 1 (what `git pack-objects --compression=1`
/// does); entries copied from a source pack keep their compressed bytes. The pack lands as
/// `pack-<sha1>.pack` and its `.idx` only when complete (temp files, fsync, rename).
public final class PackWriter {
    private let directory: [UInt8]
    private let tmpPack: [UInt8]
    private let fd: Int32
    private let expected: Int
    private var buffer: [UInt8] = []
    private var written: UInt64 = 0
    private let sha1: SHA1Hasher
    private var scratch: [UInt8] = []
    private var objects: [(key: ObjectKey, id: [UInt8], offset: UInt64, crc: UInt32)] = []
    private var finished = false

    /// Starts a pack of exactly `count` objects in `directory` (`objects/pack`).
    public init(directory: [UInt8], count: Int) throws {
        self.directory = directory
        expected = count
        tmpPack = directory + Array("/tmp_pack_drift_\(getpid())".utf8)
        try AtomicFile.makeDirectory(directory)
        fd = withCPath(tmpPack) { open($0, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o444) }
        if fd < 0 { throw DriftError(.io, path: tmpPack, "cannot create", errno: .current) }
        do {
            sha1 = try SHA1Hasher()
        } catch {
            close(fd)
            _ = withCPath(tmpPack) { unlink($0) }
            throw error
        }
        buffer.reserveCapacity(1 << 20)
        append([0x50, 0x41, 0x43, 0x4b, 0, 0, 0, 2])
        append(bigEndian32(UInt32(count)))
    }

    deinit {
        if !finished {
            close(fd)
            _ = withCPath(tmpPack) { unlink($0) }
        }
    }

    /// Adds a whole object, deflated at level 1.
    func addWhole(_ id: [UInt8], type: GitObjectType, _ data: UnsafeRawBufferPointer) throws {
        let bound = Int(compressBound(UInt(data.count)))
        if scratch.count < bound { scratch = [UInt8](repeating: 0, count: bound) }
        var outLen = UInt(scratch.count)
        let zero: [UInt8] = [0]
        let rc: Int32 = scratch.withUnsafeMutableBytes { dst in
            zero.withUnsafeBytes { z in
                let src = (data.baseAddress ?? z.baseAddress!).assumingMemoryBound(to: UInt8.self)
                return compress2(dst.baseAddress!.assumingMemoryBound(to: UInt8.self), &outLen, src,
                                 UInt(data.count), 1)
            }
        }
        guard rc == Z_OK else { throw DriftError(.gitFailure, path: directory, "zlib compress2 failed (\(rc))") }
        try scratch.withUnsafeBytes { s in
            try addRaw(id, type: type.packType, size: UInt64(data.count), base: nil,
                       UnsafeRawBufferPointer(rebasing: s[0..<Int(outLen)]))
        }
    }

    /// Adds an entry whose zlib stream is already made: type 1–4, or 7 with `base`.
    func addRaw(_ id: [UInt8], type: Int, size: UInt64, base: [UInt8]?, _ compressed: UnsafeRawBufferPointer) throws {
        guard objects.count < expected else {
            throw DriftError(.gitFailure, path: directory, "more objects than the pack header says")
        }
        var header: [UInt8] = []
        var s = size >> 4
        var c = UInt8(type << 4) | UInt8(size & 0x0f)
        while s > 0 {
            header.append(c | 0x80)
            c = UInt8(s & 0x7f)
            s >>= 7
        }
        header.append(c)
        if let base { header += base }
        let crc = header.withUnsafeBytes { crc32Of(compressed, seed: crc32Of($0)) }
        objects.append((ObjectKey(id), id, written, crc))
        append(header)
        try flushIfFull()
        if compressed.count >= 1 << 20 {
            try flush()
            try writeOut(compressed)
        } else {
            buffer.append(contentsOf: compressed)
            written += UInt64(compressed.count)
            try flushIfFull()
        }
    }

    /// Writes the trailer and the index, and moves both into place; returns the pack's name.
    @discardableResult
    func finish() throws -> String {
        guard objects.count == expected else {
            throw DriftError(.gitFailure, path: directory, "pack has \(objects.count) objects, expected \(expected)")
        }
        try flush()
        let sum = try sha1.finish()
        try sum.withUnsafeBytes { try writeOut($0, hash: false) }
        if fsync(fd) != 0 { throw DriftError(.io, path: tmpPack, "fsync failed", errno: .current) }
        close(fd)
        finished = true
        let name = "pack-" + hexEncode(sum)
        let packPath = directory + Array("/\(name).pack".utf8)
        if withCPath(tmpPack, { t in withCPath(packPath) { rename(t, $0) } }) != 0 {
            _ = withCPath(tmpPack) { unlink($0) }
            throw DriftError(.io, path: packPath, "rename failed", errno: .current)
        }
        try writeIndex(packSum: sum, to: directory + Array("/\(name).idx".utf8))
        AtomicFile.syncDirectory(of: packPath)
        return name
    }

    private func writeIndex(packSum: [UInt8], to path: [UInt8]) throws {
        objects.sort { $0.key < $1.key }
        var out: [UInt8] = [0xff, 0x74, 0x4f, 0x63, 0, 0, 0, 2]
        out.reserveCapacity(1032 + objects.count * 32 + 40)
        var fan = [UInt32](repeating: 0, count: 256)
        for o in objects { fan[Int(o.id[0])] += 1 }
        var total: UInt32 = 0
        for i in 0..<256 {
            total += fan[i]
            out += bigEndian32(total)
        }
        for o in objects { out += o.id }
        for o in objects { out += bigEndian32(o.crc) }
        var large: [UInt64] = []
        for o in objects {
            if o.offset < 0x8000_0000 {
                out += bigEndian32(UInt32(o.offset))
            } else {
                out += bigEndian32(0x8000_0000 | UInt32(large.count))
                large.append(o.offset)
            }
        }
        for v in large { out += bigEndian32(UInt32(v >> 32)) + bigEndian32(UInt32(v & 0xffff_ffff)) }
        out += packSum
        try sha1.reset()
        try out.withUnsafeBytes { try sha1.update($0) }
        out += try sha1.finish()
        // Not AtomicFile.write: the index is part of the bake, not a crash point of its own.
        let tmp = path + Array(".tmp".utf8)
        let ifd = withCPath(tmp) { open($0, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o444) }
        if ifd < 0 { throw DriftError(.io, path: tmp, "cannot create", errno: .current) }
        do {
            defer { close(ifd) }
            try out.withUnsafeBytes { try writeAll(ifd, $0, path: tmp) }
            if fsync(ifd) != 0 { throw DriftError(.io, path: tmp, "fsync failed", errno: .current) }
        } catch {
            _ = withCPath(tmp) { unlink($0) }
            throw error
        }
        if withCPath(tmp, { t in withCPath(path) { rename(t, $0) } }) != 0 {
            _ = withCPath(tmp) { unlink($0) }
            throw DriftError(.io, path: path, "rename failed", errno: .current)
        }
    }

    private func append(_ bytes: [UInt8]) {
        buffer += bytes
        written += UInt64(bytes.count)
    }

    private func flushIfFull() throws {
        if buffer.count >= 1 << 20 { try flush() }
    }

    private func flush() throws {
        if buffer.isEmpty { return }
        try buffer.withUnsafeBytes { try writeOut($0, counted: true) }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Hashes and writes bytes; `counted` when `written` already includes them.
    private func writeOut(_ b: UnsafeRawBufferPointer, counted: Bool = false, hash: Bool = true) throws {
        guard let p = b.baseAddress, b.count > 0 else { return }
        if hash { try sha1.update(p, b.count) }
        if !counted { written += UInt64(b.count) }
        try writeAll(fd, b, path: tmpPack)
    }
}

private func bigEndian32(_ v: UInt32) -> [UInt8] {
    [UInt8(v >> 24), UInt8((v >> 16) & 0xff), UInt8((v >> 8) & 0xff), UInt8(v & 0xff)]
}

extension GitObjectType {
    /// The type number in a pack entry header.
    var packType: Int {
        switch self {
        case .commit: return 1
        case .tree: return 2
        case .blob: return 3
        case .tag: return 4
        }
    }
}
