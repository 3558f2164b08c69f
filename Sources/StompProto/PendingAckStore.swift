/// Messages awaiting ACK/NACK, oldest first, with O(1) amortised lookup by message-id or ack id
/// and O(1) amortised removal.
///
/// Entries live in an array indexed by a sequence number (slot = seq - base); a settled entry
/// leaves a hole (nil) that is skipped, and holes at either end are trimmed at once, so the first
/// and last slots in `head..<entries.count` always hold live entries. The array is compacted when
/// holes dominate.
///
/// An entry's ids are kept as bytes in one buffer (`ids`), copied from the MESSAGE's header values: no String
/// is made per message; `PendingAck` values (Strings) are made only when asked for (`subscript`, `all`).
///
/// The index is a table of its own (`PendingAckIndex`): for each live entry one slot per id (message-id and
/// ack id; one slot for both when they are the same, as in STOMP 1.0/1.1), holding a 64-bit hash of the id's
/// bytes and the entry's sequence number. A lookup hashes the id once (a word at a time, no `Hasher`, no
/// String needed: `newest(matchingBytes:)` reads a header's bytes) and confirms each candidate against the
/// entry's id bytes, so equal hashes of different ids never match. Nothing is rehashed when an entry is settled.
struct PendingAckStore: Sendable {
    /// One message: its subscription and where its ids lie in `ids`.
    private struct Entry: Sendable {
        var subscription: String
        /// Offset in `ids` of the message-id's bytes; the ack id's follow them unless `sameIDs`.
        var start: Int
        var messageIDCount: Int
        var ackIDCount: Int
        var sameIDs: Bool { ackIDCount < 0 }
    }
    private var entries: [Entry?] = []
    /// `entries[i] != nil`, read without copying the entry (the trim checks the ends after every settle).
    private var live: [Bool] = []
    /// The hashes of `entries[i]`'s message-id and ack id at `2i` and `2i + 1` (to find its index slots again).
    private var hashes: [UInt64] = []
    /// The entries' id bytes, in arrival order (compacted with `entries`).
    private var ids: [UInt8] = []
    /// Sequence number of `entries[0]`.
    private var base = 0
    /// Index in `entries` of the oldest live entry (== entries.count when empty).
    private var head = 0
    private(set) var count = 0
    private var index = PendingAckIndex()

    /// Capacity of `ids` kept when the store empties.
    private static let idBytesKept = 1 << 20
    /// Tag bits of an index slot: `seq << 2 | messageID | ackID`.
    private static let messageID = 1, ackID = 2

    var isEmpty: Bool { count == 0 }

    /// Oldest first.
    var all: [PendingAck] {
        var out: [PendingAck] = []
        out.reserveCapacity(count)
        for i in head..<entries.count { if let e = entries[i] { out.append(pendingAck(e)) } }
        return out
    }

    /// Sequence number of the newest entry.
    var newest: Int? { isEmpty ? nil : base + entries.count - 1 }

    subscript(seq: Int) -> PendingAck? {
        let i = seq - base
        guard i >= head, i < entries.count, let e = entries[i] else { return nil }
        return pendingAck(e)
    }

    /// The subscription of entry `seq` (no String made for its ids).
    func subscription(_ seq: Int) -> String? {
        let i = seq - base
        return i >= head && i < entries.count ? entries[i]?.subscription : nil
    }

    private func pendingAck(_ e: Entry) -> PendingAck {
        ids.withUnsafeBytes { all in
            let messageID = String(decoding: all[e.start..<e.start + e.messageIDCount], as: UTF8.self)
            let ackID = e.sameIDs ? messageID
                : String(decoding: all[e.start + e.messageIDCount..<e.start + e.messageIDCount + e.ackIDCount], as: UTF8.self)
            return PendingAck(subscription: e.subscription, messageID: messageID, ackID: ackID)
        }
    }

    mutating func append(_ p: PendingAck) {
        var m = p.messageID
        var a = p.ackID
        m.withUTF8 { mb in a.withUTF8 { ab in append(subscription: p.subscription, messageID: UnsafeRawBufferPointer(mb),
                                                     ackID: UnsafeRawBufferPointer(ab)) } }
    }

    /// A message awaiting ACK, its ids given as bytes (a MESSAGE's header values, UTF-8): they are copied.
    mutating func append(subscription: String, messageID: UnsafeRawBufferPointer, ackID: UnsafeRawBufferPointer) {
        let seq = base + entries.count
        let mh = PendingAckIndex.hash(messageID)
        let same = PendingAckIndex.equal(messageID, ackID)
        let start = ids.count
        ids.append(contentsOf: messageID)
        if !same { ids.append(contentsOf: ackID) }
        entries.append(Entry(subscription: subscription, start: start, messageIDCount: messageID.count,
                             ackIDCount: same ? -1 : ackID.count))
        live.append(true)
        count += 1
        if same {
            hashes.append(mh)
            hashes.append(mh)
            index.insert(hash: mh, tag: seq << 2 | Self.messageID | Self.ackID)
        } else {
            let ah = PendingAckIndex.hash(ackID)
            hashes.append(mh)
            hashes.append(ah)
            index.insert(hash: mh, tag: seq << 2 | Self.messageID)
            index.insert(hash: ah, tag: seq << 2 | Self.ackID)
        }
    }

    /// Whether the tag's entry carries `id` where the tag says: its message-id, or its ack id (a tag with both
    /// bits stands for an entry whose two ids are the same).
    private func confirms(_ tag: Int, _ id: UnsafeRawBufferPointer) -> Bool {
        let i = (tag >> 2) - base
        guard i >= head, i < entries.count, let e = entries[i] else { return false }
        return ids.withUnsafeBytes { all in
            tag & Self.messageID != 0
                ? PendingAckIndex.equal(UnsafeRawBufferPointer(rebasing: all[e.start..<e.start + e.messageIDCount]), id)
                : PendingAckIndex.equal(UnsafeRawBufferPointer(
                    rebasing: all[e.start + e.messageIDCount..<e.start + e.messageIDCount + e.ackIDCount]), id)
        }
    }

    /// The newest entry whose message-id or ack id is `id` (like `lastIndex(where:)`).
    func newest(matching id: String) -> Int? {
        var id = id
        return id.withUTF8 { newest(matchingBytes: UnsafeRawBufferPointer($0)) }
    }

    /// `newest(matching:)` of an id given as its UTF-8 bytes (a header's value): no String made.
    func newest(matchingBytes id: UnsafeRawBufferPointer) -> Int? {
        var best: Int?
        index.forEach(hash: PendingAckIndex.hash(id)) { tag in
            let seq = tag >> 2
            if seq > (best ?? Int.min), confirms(tag, id) { best = seq }
        }
        return best
    }

    /// `newest(matchingBytes:)` among the entries of the subscription whose id is `subscription` (bytes).
    func newest(matchingBytes id: UnsafeRawBufferPointer, subscription: UnsafeRawBufferPointer) -> Int? {
        var best: Int?
        index.forEach(hash: PendingAckIndex.hash(id)) { tag in
            let seq = tag >> 2
            guard seq > (best ?? Int.min), confirms(tag, id), var owner = self.subscription(seq) else { return }
            if owner.withUTF8({ PendingAckIndex.equal(UnsafeRawBufferPointer($0), subscription) }) { best = seq }
        }
        return best
    }

    /// The oldest entry with message-id `id`, else the oldest with ack id `id`.
    func oldest(messageIDOrAckID id: String) -> Int? {
        var id = id
        return id.withUTF8 { u in
            let b = UnsafeRawBufferPointer(u)
            var byMessageID: Int?
            var byAckID: Int?
            index.forEach(hash: PendingAckIndex.hash(b)) { tag in
                let seq = tag >> 2
                if tag & Self.messageID != 0 {
                    if seq < (byMessageID ?? Int.max), confirms(tag, b) { byMessageID = seq }
                    // a tag with both bits: the ack id is the message-id
                    if tag & Self.ackID != 0, seq < (byAckID ?? Int.max), confirms(tag, b) { byAckID = seq }
                } else if seq < (byAckID ?? Int.max), confirms(tag, b) {
                    byAckID = seq
                }
            }
            return byMessageID ?? byAckID
        }
    }

    mutating func remove(_ seq: Int) {
        let i = seq - base
        guard i >= head, i < entries.count, live[i], let e = entries[i].take() else { return }
        live[i] = false
        count -= 1
        if e.sameIDs {
            index.remove(hash: hashes[2 * i], tag: seq << 2 | Self.messageID | Self.ackID)
        } else {
            index.remove(hash: hashes[2 * i], tag: seq << 2 | Self.messageID)
            index.remove(hash: hashes[2 * i + 1], tag: seq << 2 | Self.ackID)
        }
        trim()
    }

    /// Removes every entry of `subscription` up to and including `seq` (cumulative `client` ACK).
    mutating func removeThrough(_ seq: Int, subscription: String) {
        var s = base + head
        while s <= seq {
            if self.subscription(s) == subscription { remove(s) }
            // `remove` may trim the front: never revisit settled slots.
            s = max(s + 1, base + head)
        }
    }

    /// Removes every entry for which `predicate` holds.
    mutating func removeAll(where predicate: (PendingAck) -> Bool) {
        let kept = all.filter { !predicate($0) }
        if kept.count == count { return }
        self = PendingAckStore()
        for p in kept { append(p) }
    }

    private mutating func trim() {
        if entries.count > head, !live[entries.count - 1] {
            while entries.count > head, !live[entries.count - 1] {
                entries.removeLast(); live.removeLast(); hashes.removeLast(2)
            }
            // the newest live entry's bytes end the buffer (bytes are appended in arrival order)
            if let e = entries.last ?? nil { ids.removeSubrange((e.start + e.messageIDCount + max(e.ackIDCount, 0))...) }
        }
        while head < entries.count, !live[head] { head += 1 }
        if head == entries.count {
            base += entries.count
            entries.removeAll(keepingCapacity: true)
            live.removeAll(keepingCapacity: true)
            hashes.removeAll(keepingCapacity: true)
            // a burst of long ids does not keep its memory once settled
            ids.removeAll(keepingCapacity: ids.capacity <= Self.idBytesKept)
            head = 0
        } else if head >= 64 && head * 2 >= entries.count {
            entries.removeFirst(head)
            live.removeFirst(head)
            hashes.removeFirst(2 * head)
            base += head
            head = 0
            // entries[0] is live: its bytes are the first still needed
            let dead = entries[0]!.start
            ids.removeFirst(dead)
            for i in entries.indices where entries[i] != nil { entries[i]!.start -= dead }
        }
    }
}
