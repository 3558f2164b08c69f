/// The id index of `PendingAckStore`: an open-addressing table (linear probing) of (hash of an id's bytes,
/// tag) pairs. Several slots may hold the same hash (one id on several entries, or two ids that collide): a
/// lookup visits them all and the store confirms each against the entry's id. Removing a slot shifts the
/// following ones back (no tombstones), so the table never needs rebuilding after settles; it grows by
/// doubling from the stored hashes (no id is hashed again) and lets go of its memory when it empties.
struct PendingAckIndex: Sendable {
    private var hashes: [UInt64] = []
    /// 0: an empty slot (a store's tag always has an id bit set).
    private var tags: [Int] = []
    private var used = 0

    /// Per process, so that a peer cannot choose ids that all land in one place.
    private static let seed = UInt64.random(in: 1...UInt64.max)
    /// Capacity kept when the table empties; above it the arrays are let go.
    private static let keptCapacity = 4096

    private var mask: Int { tags.count - 1 }

    private func home(_ hash: UInt64) -> Int { Int(truncatingIfNeeded: hash) & mask }

    mutating func insert(hash: UInt64, tag: Int) {
        if (used + 1) * 2 > tags.count { grow() }
        var i = home(hash)
        while tags[i] != 0 { i = (i + 1) & mask }
        hashes[i] = hash
        tags[i] = tag
        used += 1
    }

    /// Calls `body` with the tag of every slot holding `hash`.
    func forEach(hash: UInt64, _ body: (Int) -> Void) {
        guard used > 0 else { return }
        var i = home(hash)
        while tags[i] != 0 {
            if hashes[i] == hash { body(tags[i]) }
            i = (i + 1) & mask
        }
    }

    /// Removes the slot holding `tag` (inserted with `hash`), if any.
    mutating func remove(hash: UInt64, tag: Int) {
        guard used > 0 else { return }
        var i = home(hash)
        while tags[i] != tag {
            if tags[i] == 0 { return }
            i = (i + 1) & mask
        }
        // Backward shift: a later slot of the same run moves into the hole unless its home lies in (i, j].
        var j = i
        while true {
            j = (j + 1) & mask
            if tags[j] == 0 { break }
            let k = home(hashes[j])
            let stays = i <= j ? (i < k && k <= j) : (i < k || k <= j)
            if !stays {
                hashes[i] = hashes[j]
                tags[i] = tags[j]
                i = j
            }
        }
        tags[i] = 0
        used -= 1
        if used == 0, tags.count > Self.keptCapacity {
            hashes = []
            tags = []
        }
    }

    private mutating func grow() {
        let oldHashes = hashes
        let oldTags = tags
        let capacity = max(16, tags.count * 2)
        hashes = Array(repeating: 0, count: capacity)
        tags = Array(repeating: 0, count: capacity)
        used = 0
        for i in oldTags.indices where oldTags[i] != 0 { insert(hash: oldHashes[i], tag: oldTags[i]) }
    }

    // MARK: - Hashing and comparing ids as bytes

    /// A 64-bit hash of `bytes`, eight at a time (multiply and shift; a splitmix64 finish for the low bits).
    static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        let n = bytes.count
        var h = seed ^ (UInt64(truncatingIfNeeded: n) &* 0x9E37_79B9_7F4A_7C15)
        var i = 0
        while i + 8 <= n {
            h = (h ^ bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xBF58_476D_1CE4_E5B9
            h ^= h >> 29
            i += 8
        }
        if i < n {
            var w: UInt64 = 0
            var shift: UInt64 = 0
            while i < n {
                w |= UInt64(bytes[i]) << shift
                shift += 8
                i += 1
            }
            h = (h ^ w) &* 0xBF58_476D_1CE4_E5B9
            h ^= h >> 29
        }
        h ^= h >> 30
        h = h &* 0xBF58_476D_1CE4_E5B9
        h ^= h >> 27
        h = h &* 0x94D0_49BB_1331_11EB
        h ^= h >> 31
        return h
    }

    /// The hash of `s`'s UTF-8 bytes (equal to `hash` of the same bytes).
    static func hash(_ s: String) -> UInt64 {
        if let h = s.utf8.withContiguousStorageIfAvailable({ hash(UnsafeRawBufferPointer($0)) }) { return h }
        var copy = s
        return copy.withUTF8 { hash(UnsafeRawBufferPointer($0)) }
    }

    /// Whether `s`'s UTF-8 bytes are `bytes`.
    static func equal(_ s: String, _ bytes: UnsafeRawBufferPointer) -> Bool {
        if let r = s.utf8.withContiguousStorageIfAvailable({ equal(UnsafeRawBufferPointer($0), bytes) }) { return r }
        return s.utf8.elementsEqual(bytes)
    }

    static func equal(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        let n = a.count
        guard n == b.count else { return false }
        var i = 0
        while i + 8 <= n {
            if a.loadUnaligned(fromByteOffset: i, as: UInt64.self) != b.loadUnaligned(fromByteOffset: i, as: UInt64.self) {
                return false
            }
            i += 8
        }
        while i < n {
            if a[i] != b[i] { return false }
            i += 1
        }
        return true
    }
}
