/// Bytes as a dictionary or set key, hashed as one run of bytes: `[UInt8]`'s own hashing feeds
/// the hasher a byte at a time, which dominated the gate's lookups of 100,000 paths.
struct ByteKey: Hashable {
    var bytes: ArraySlice<UInt8>

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
    }

    static func == (a: ByteKey, b: ByteKey) -> Bool { a.bytes.elementsEqual(b.bytes) }

    func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}
