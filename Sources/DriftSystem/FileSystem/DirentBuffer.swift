#if canImport(Glibc)
import Glibc
#endif
import CSys

/// One reused buffer a walking thread reads directories into with `getdents64`: no
/// `fdopendir` per directory (its `fstat`, `fcntl` and 32 KiB allocation, ~2,200 times on a
/// 50,000-file tree) and no `dirent` copied; names are handed out in place.
final class DirentBuffer {
    private static let size = 32 << 10
    private let bytes = UnsafeMutableRawPointer.allocate(byteCount: DirentBuffer.size, alignment: 8)

    deinit { bytes.deallocate() }

    /// Calls `body` with each entry's NUL-terminated name and its length (`.` and `..` left
    /// out), in the order the directory gives them. Returns 0, or the `errno` of a failed read.
    func forEachName(_ fd: Int32, _ body: (UnsafePointer<CChar>, Int) -> Void) -> Int32 {
        while true {
            let n = drift_getdents64(fd, bytes, UInt(Self.size))
            if n == 0 { return 0 }
            if n < 0 {
                if errno == EINTR { continue }
                return errno
            }
            var at = 0
            while at < n {
                // struct linux_dirent64: d_ino u64, d_off s64, d_reclen u16, d_type u8, d_name.
                let record = bytes + at
                let length = Int(record.loadUnaligned(fromByteOffset: 16, as: UInt16.self))
                guard length > 0 else { return EIO }
                let name = UnsafePointer((record + 19).assumingMemoryBound(to: CChar.self))
                let count = strlen(name)
                at += length
                if name[0] == 0x2E && (count == 1 || (count == 2 && name[1] == 0x2E)) { continue }
                body(name, count)
            }
        }
    }
}
