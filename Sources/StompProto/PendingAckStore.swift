/// Messages awaiting ACK/NACK, oldest first, with O(1) amortised lookup by message-id or ack id
/// and O(1) amortised removal.
///
/// Entries live in an array indexed by a sequence number (slot = seq - base); a settled entry
/// leaves a hole (nil) that is skipped, and holes at either end are trimmed at once, so the first
/// and last slots in `head..<entries.count` always hold live entries. The array is compacted when
/// holes dominate. One map gives, for each id, the ascending sequence numbers of the live entries
/// carrying it as message-id or as ack id (usually one, held inline: no allocation). An entry whose two
/// ids are the same (STOMP 1.0/1.1, and brokers whose ack id is the message-id) is keyed once: hashing
/// the ids is most of the bookkeeping's cost. An id whose last entry is settled keeps its (empty) key until
/// empty keys outnumber the live ones (then the map is rebuilt): removing a key from a Swift dictionary
/// rehashes its neighbours, and most ids are settled right after they arrive.
struct PendingAckStore: Sendable {
    private var entries: [PendingAck?] = []
    /// `entries[i] != nil`, read without copying the entry (the trim checks the ends after every settle).
    private var live: [Bool] = []
    /// Sequence number of `entries[0]`.
    private var base = 0
    /// Index in `entries` of the oldest live entry (== entries.count when empty).
    private var head = 0
    private(set) var count = 0
    /// Id → the live entries carrying it, as `Slots` tags; some keys are empty (see `emptyKeys`).
    private var byID: [String: Slots] = [:]
    /// Keys of `byID` with no live entry left.
    private var emptyKeys = 0

    /// Tags of one id's entries, ascending: `seq << 2 | 1` (its message-id) `| 2` (its ack id). The first inline.
    private struct Slots: Sendable {
        /// 0: none (a tag has at least one bit set).
        var first: Int
        var rest: [Int] = []
        static let messageID = 1, ackID = 2
        var isEmpty: Bool { first == 0 }
        var last: Int? { isEmpty ? nil : rest.last ?? first }
        /// The first tag with `bit`.
        func first(with bit: Int) -> Int? {
            if first & bit != 0 { return first }
            return rest.first { $0 & bit != 0 }
        }
        /// Removes `seq`'s tag; false when none is left.
        mutating func remove(_ seq: Int) -> Bool {
            if first >> 2 == seq {
                first = rest.isEmpty ? 0 : rest.removeFirst()
            } else if let j = rest.lastIndex(where: { $0 >> 2 == seq }) {
                rest.remove(at: j)
            }
            return !isEmpty
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
        live.append(true)
        count += 1
        if p.ackID == p.messageID {
            add(seq << 2 | Slots.messageID | Slots.ackID, p.messageID)
        } else {
            add(seq << 2 | Slots.messageID, p.messageID)
            add(seq << 2 | Slots.ackID, p.ackID)
        }
    }

    /// Appends `tag` (the newest entry's) to `key`'s slots: one hash of `key`.
    private mutating func add(_ tag: Int, _ key: String) {
        if let k = byID.index(forKey: key) {
            if byID.values[k].isEmpty {
                byID.values[k].first = tag
                emptyKeys -= 1
            } else {
                byID.values[k].rest.append(tag)
            }
        } else {
            byID[key] = Slots(first: tag)
        }
    }

    /// The newest entry whose message-id or ack id is `id` (like `lastIndex(where:)`).
    func newest(matching id: String) -> Int? {
        byID[id]?.last.map { $0 >> 2 }
    }

    /// The oldest entry with message-id `id`, else the oldest with ack id `id`.
    func oldest(messageIDOrAckID id: String) -> Int? {
        guard let slots = byID[id] else { return nil }
        return (slots.first(with: Slots.messageID) ?? slots.first(with: Slots.ackID)).map { $0 >> 2 }
    }

    mutating func remove(_ seq: Int) {
        let i = seq - base
        guard i >= head, i < entries.count, live[i], let p = entries[i].take() else { return }
        live[i] = false
        count -= 1
        drop(seq, p.messageID)
        if p.ackID != p.messageID { drop(seq, p.ackID) }
        if emptyKeys > Self.emptyKeysKept, emptyKeys * 2 > byID.count { dropEmptyKeys() }
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
    /// Empty keys kept before a rebuild: a rebuild hashes the live keys once, so its cost per settle stays small.
    private static let emptyKeysKept = 1024

    /// The map without its empty keys, with room for as many again so that it does not grow (and rehash
    /// every key) before the next rebuild.
    private mutating func dropEmptyKeys() {
        var map = [String: Slots](minimumCapacity: 2 * (byID.count - emptyKeys) + 2 * Self.emptyKeysKept + 64)
        for (key, slots) in byID where !slots.isEmpty { map[key] = slots }
        byID = map
        emptyKeys = 0
    }

    private mutating func drop(_ seq: Int, _ key: String) {
        guard let k = byID.index(forKey: key) else { return }
        if !byID.values[k].remove(seq) { emptyKeys += 1 }
    }

    private mutating func trim() {
        while entries.count > head, !live[entries.count - 1] { entries.removeLast(); live.removeLast() }
        while head < entries.count, !live[head] { head += 1 }
        if head == entries.count {
            base += entries.count
            entries.removeAll(keepingCapacity: true)
            live.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 64 && head * 2 >= entries.count {
            entries.removeFirst(head)
            live.removeFirst(head)
            base += head
            head = 0
        }
    }
}
