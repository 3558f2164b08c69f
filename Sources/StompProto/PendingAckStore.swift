/// Messages awaiting ACK/NACK, oldest first, with O(1) amortised lookup by message-id or ack id
/// and O(1) amortised removal.
///
/// Entries live in an array indexed by a sequence number (slot = seq - base); a settled entry
/// leaves a hole (nil) that is skipped, and holes at either end are trimmed at once, so the first
/// and last slots in `head..<entries.count` always hold live entries. The array is compacted when
/// holes dominate. Two maps give, for each message-id and each ack id, the ascending sequence
/// numbers of the live entries carrying it (usually one).
struct PendingAckStore: Sendable {
    private var entries: [PendingAck?] = []
    /// Sequence number of `entries[0]`.
    private var base = 0
    /// Index in `entries` of the oldest live entry (== entries.count when empty).
    private var head = 0
    private(set) var count = 0
    private var byMessageID: [String: Sequences] = [:]
    /// Only the entries whose ack id differs from their message-id (found through `byMessageID` otherwise).
    private var byAckID: [String: Sequences] = [:]

    /// Ascending sequence numbers of the entries carrying one id: almost always one, kept without an array.
    enum Sequences: Sendable {
        case none   // only while being added to
        case one(Int)
        case many([Int])
        var first: Int? { switch self { case .none: return nil; case .one(let s): return s; case .many(let a): return a.first } }
        var last: Int? { switch self { case .none: return nil; case .one(let s): return s; case .many(let a): return a.last } }
        mutating func append(_ seq: Int) {
            switch self {
            case .none: self = .one(seq)
            case .one(let s): self = .many([s, seq])
            case .many(var a): self = .one(0); a.append(seq); self = .many(a)
            }
        }
        /// Removes `seq`; false when nothing is left.
        mutating func remove(_ seq: Int) -> Bool {
            switch self {
            case .none: return false
            case .one(let s): return s != seq
            case .many(var a):
                self = .one(0)
                if let j = a.lastIndex(of: seq) { a.remove(at: j) }
                if a.count == 1 { self = .one(a[0]) } else { self = .many(a) }
                return !a.isEmpty
            }
        }
    }

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
        entries.append(p)
        count += 1
        Self.add(seq, p.messageID, to: &byMessageID)
        if p.ackID != p.messageID { Self.add(seq, p.ackID, to: &byAckID) }
    }

    /// The newest entry whose message-id or ack id is `id` (like `lastIndex(where:)`).
    func newest(matching id: String) -> Int? {
        switch (byMessageID[id]?.last ?? nil, byAckID[id]?.last ?? nil) {
        case let (a?, b?): return max(a, b)
        case let (a?, nil): return a
        case let (nil, b?): return b
        case (nil, nil): return nil
        }
    }

    /// The oldest entry with message-id `id`, else the oldest with ack id `id`.
    func oldest(messageIDOrAckID id: String) -> Int? {
        byMessageID[id]?.first ?? byAckID[id]?.first ?? nil
    }

    mutating func remove(_ seq: Int) {
        let i = seq - base
        guard i >= head, i < entries.count, let p = entries[i] else { return }
        entries[i] = nil
        count -= 1
        Self.drop(seq, p.messageID, from: &byMessageID)
        if p.ackID != p.messageID { Self.drop(seq, p.ackID, from: &byAckID) }
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

    /// One hash of `key` (ids are long strings: hashing them is most of a settle's cost).
    private static func drop(_ seq: Int, _ key: String, from map: inout [String: Sequences]) {
        guard let k = map.index(forKey: key) else { return }
        if !map.values[k].remove(seq) { map.remove(at: k) }
    }

    /// One hash of `key`.
    private static func add(_ seq: Int, _ key: String, to map: inout [String: Sequences]) {
        map[key, default: .none].append(seq)
    }

    private mutating func trim() {
        while entries.count > head, entries[entries.count - 1] == nil { entries.removeLast() }
        while head < entries.count, entries[head] == nil { head += 1 }
        if head == entries.count {
            base += entries.count
            entries.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 64 && head * 2 >= entries.count {
            entries.removeFirst(head)
            base += head
            head = 0
        }
    }
}
