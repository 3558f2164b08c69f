/// Messages awaiting ACK/NACK, oldest first, with O(1) amortised lookup by message-id or ack id
/// and O(1) amortised removal.
///
/// Entries live in an array indexed by a sequence number (slot = seq - base); a settled entry
/// leaves a hole (nil) that is skipped, and holes at either end are trimmed at once, so the first
/// and last slots in `head..<entries.count` always hold live entries. The array is compacted when
/// holes dominate.
///
/// The index is a table of its own (`PendingAckIndex`): for each live entry one slot per id (message-id and
/// ack id; one slot for both when they are the same, as in STOMP 1.0/1.1), holding a 64-bit hash of the id's
/// bytes and the entry's sequence number. A lookup hashes the id once (a word at a time, no `Hasher`, no
/// String needed: `newest(matchingBytes:)` reads a header's bytes) and confirms each candidate against the
/// entry's id, so equal hashes of different ids never match. Nothing is rehashed when an entry is settled.
struct PendingAckStore: Sendable {
    private var entries: [PendingAck?] = []
    /// `entries[i] != nil`, read without copying the entry (the trim checks the ends after every settle).
    private var live: [Bool] = []
    /// The hashes of `entries[i]`'s message-id and ack id at `2i` and `2i + 1` (to find its index slots again).
    private var hashes: [UInt64] = []
    /// Sequence number of `entries[0]`.
    private var base = 0
    /// Index in `entries` of the oldest live entry (== entries.count when empty).
    private var head = 0
    private(set) var count = 0
    private var index = PendingAckIndex()

    /// Tag bits of an index slot: `seq << 2 | messageID | ackID`.
    private static let messageID = 1, ackID = 2

    var isEmpty: Bool { count == 0 }

    /// Oldest first.
    var all: [PendingAck] {
        var out: [PendingAck] = []
        out.reserveCapacity(count)
        for i in head..<entries.count { if let e = entries[i] { out.append(e) } }
        return out
    }

    /// Sequence number of the newest entry.
    var newest: Int? { isEmpty ? nil : base + entries.count - 1 }

    subscript(seq: Int) -> PendingAck? {
        let i = seq - base
        return i >= head && i < entries.count ? entries[i] : nil
    }

    mutating func append(_ p: PendingAck) {
        let seq = base + entries.count
        let mh = PendingAckIndex.hash(p.messageID)
        entries.append(p)
        live.append(true)
        count += 1
        if p.ackID == p.messageID {
            hashes.append(mh)
            hashes.append(mh)
            index.insert(hash: mh, tag: seq << 2 | Self.messageID | Self.ackID)
        } else {
            let ah = PendingAckIndex.hash(p.ackID)
            hashes.append(mh)
            hashes.append(ah)
            index.insert(hash: mh, tag: seq << 2 | Self.messageID)
            index.insert(hash: ah, tag: seq << 2 | Self.ackID)
        }
    }

    /// Whether the tag's entry carries the id `equal` accepts where the tag says: its message-id, or its ack id
    /// (a tag with both bits stands for an entry whose two ids are the same).
    private func confirms(_ tag: Int, _ equal: (String) -> Bool) -> Bool {
        guard let e = self[tag >> 2] else { return false }
        return tag & Self.messageID != 0 ? equal(e.messageID) : equal(e.ackID)
    }

    /// The newest entry whose message-id or ack id is `id` (like `lastIndex(where:)`).
    func newest(matching id: String) -> Int? {
        var best: Int?
        index.forEach(hash: PendingAckIndex.hash(id)) { tag in
            let seq = tag >> 2
            if seq > (best ?? Int.min), confirms(tag, { $0 == id }) { best = seq }
        }
        return best
    }

    /// `newest(matching:)` of an id given as its UTF-8 bytes (a header's value): no String made.
    func newest(matchingBytes id: UnsafeRawBufferPointer) -> Int? {
        var best: Int?
        index.forEach(hash: PendingAckIndex.hash(id)) { tag in
            let seq = tag >> 2
            if seq > (best ?? Int.min), confirms(tag, { PendingAckIndex.equal($0, id) }) { best = seq }
        }
        return best
    }

    /// The oldest entry with message-id `id`, else the oldest with ack id `id`.
    func oldest(messageIDOrAckID id: String) -> Int? {
        var byMessageID: Int?
        var byAckID: Int?
        index.forEach(hash: PendingAckIndex.hash(id)) { tag in
            let seq = tag >> 2
            guard let e = self[seq] else { return }
            if tag & Self.messageID != 0, seq < (byMessageID ?? Int.max), e.messageID == id { byMessageID = seq }
            if tag & Self.ackID != 0, seq < (byAckID ?? Int.max), e.ackID == id { byAckID = seq }
        }
        return byMessageID ?? byAckID
    }

    mutating func remove(_ seq: Int) {
        let i = seq - base
        guard i >= head, i < entries.count, live[i], let p = entries[i].take() else { return }
        live[i] = false
        count -= 1
        if p.ackID == p.messageID {
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
            if let e = self[s], e.subscription == subscription { remove(s) }
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
        while entries.count > head, !live[entries.count - 1] {
            entries.removeLast(); live.removeLast(); hashes.removeLast(2)
        }
        while head < entries.count, !live[head] { head += 1 }
        if head == entries.count {
            base += entries.count
            entries.removeAll(keepingCapacity: true)
            live.removeAll(keepingCapacity: true)
            hashes.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 64 && head * 2 >= entries.count {
            entries.removeFirst(head)
            live.removeFirst(head)
            hashes.removeFirst(2 * head)
            base += head
            head = 0
        }
    }
}
