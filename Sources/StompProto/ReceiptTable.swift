/// The session's one table of receipts: those awaited (request order, purpose, optional deadline) and those
/// given up on at their deadline, remembered (bounded) so that a RECEIPT arriving after its timeout is
/// recognised as late rather than unknown. Pure: time enters only as `StompInstant` arguments.
struct ReceiptTable: Sendable {
    struct Awaited: Sendable {
        var seq: Int
        var purpose: ReceiptPurpose
        var deadline: StompInstant?
    }

    /// The newest awaited receipt, kept out of `awaited`: sequential requests (one receipt at a time) add and
    /// remove it with a string comparison, no hashing. It is always the newest: `add` moves the previous one
    /// into `awaited` first, so `awaited` plus `newest` is the whole table.
    private var newest: (id: String, entry: Awaited)?
    /// Every awaited receipt but `newest`.
    private var awaited: [String: Awaited] = [:]
    /// Timed-out ids and their purpose; emptied when it reaches `StompSession.expiredReceiptMemory`.
    private var expired: [String: ReceiptPurpose] = [:]
    /// How many awaited receipts have a deadline (no scan at all while none has one: raw frames, benches).
    private var withDeadline = 0

    subscript(id: String) -> Awaited? {
        if let n = newest, n.id == id { return n.entry }
        return awaited.isEmpty ? nil : awaited[id]
    }

    mutating func add(_ id: String, seq: Int, purpose: ReceiptPurpose) {
        if newest != nil || !awaited.isEmpty {   // none awaited (sequential requests): nothing to look up
            _ = remove(id)   // re-using an awaited id replaces it
            if let n = newest { awaited[n.id] = n.entry }
        }
        newest = (id, Awaited(seq: seq, purpose: purpose))
        if !expired.isEmpty { expired[id] = nil }
    }

    /// False when `id` is not awaited.
    mutating func setDeadline(_ id: String, _ deadline: StompInstant) -> Bool {
        if let n = newest, n.id == id {
            if n.entry.deadline == nil { withDeadline += 1 }
            newest!.entry.deadline = deadline
            return true
        }
        guard let old = awaited[id] else { return false }
        if old.deadline == nil { withDeadline += 1 }
        awaited[id]!.deadline = deadline
        return true
    }

    /// Stops awaiting `id`; its entry if it was awaited.
    mutating func remove(_ id: String) -> Awaited? {
        let r: Awaited
        if let n = newest, n.id == id {
            r = n.entry
            newest = nil
        } else {
            guard !awaited.isEmpty, let a = awaited.removeValue(forKey: id) else { return nil }
            r = a
        }
        if r.deadline != nil { withDeadline -= 1 }
        return r
    }

    /// `remove(_:)` of the id whose UTF-8 is `bytes` (a RECEIPT's `receipt-id`): the newest is compared byte for
    /// byte, no String made; the id is returned as stored.
    mutating func remove(bytes: UnsafeRawBufferPointer) -> (id: String, entry: Awaited)? {
        if newest != nil, Self.utf8(of: newest.unsafelyUnwrapped.id, equals: bytes) {
            let n = newest.take().unsafelyUnwrapped
            if n.entry.deadline != nil { withDeadline -= 1 }
            return n
        }
        guard !awaited.isEmpty else { return nil }
        let id = String(decoding: bytes, as: UTF8.self)
        return remove(id).map { (id, $0) }
    }

    @inline(__always)
    private static func utf8(of s: String, equals bytes: UnsafeRawBufferPointer) -> Bool {
        let same = s.utf8.withContiguousStorageIfAvailable { u -> Bool in
            guard u.count == bytes.count else { return false }
            for i in 0..<u.count where u[i] != bytes[i] { return false }
            return true
        }
        return same ?? s.utf8.elementsEqual(bytes)
    }

    /// The purpose of `id` if it timed out earlier (and forgets it: a RECEIPT comes once).
    mutating func removeExpired(_ id: String) -> ReceiptPurpose? {
        expired.isEmpty ? nil : expired.removeValue(forKey: id)
    }

    /// Removes the awaited receipts whose deadline is `now` or earlier, oldest request first, remembering them.
    mutating func expire(now: StompInstant, memory: Int) -> [(id: String, purpose: ReceiptPurpose)] {
        guard withDeadline > 0 else { return [] }
        var due: [(seq: Int, id: String, purpose: ReceiptPurpose)] = []
        for (id, r) in awaited {
            if let d = r.deadline, d <= now { due.append((r.seq, id, r.purpose)) }
        }
        if let (id, r) = newest, let d = r.deadline, d <= now { due.append((r.seq, id, r.purpose)) }
        guard !due.isEmpty else { return [] }
        due.sort { $0.seq < $1.seq }
        for e in due {
            _ = remove(e.id)
            if expired.count >= memory { expired.removeAll() }
            expired[e.id] = e.purpose
        }
        return due.map { ($0.id, $0.purpose) }
    }

    /// The earliest deadline of an awaited receipt. O(awaited) when some have one, O(1) otherwise.
    var earliestDeadline: StompInstant? {
        guard withDeadline > 0 else { return nil }
        var earliest: StompInstant?
        for r in awaited.values {
            if let d = r.deadline, earliest.map({ d < $0 }) ?? true { earliest = d }
        }
        if let d = newest?.entry.deadline, earliest.map({ d < $0 }) ?? true { earliest = d }
        return earliest
    }

    /// Awaited ids in request order.
    var ids: [String] { all.sorted { $0.entry.seq < $1.entry.seq }.map(\.id) }

    /// Every awaited receipt, `newest` included (unordered).
    private var all: [(id: String, entry: Awaited)] {
        var list = awaited.map { (id: $0.key, entry: $0.value) }
        if let n = newest { list.append(n) }
        return list
    }

    mutating func removeAll() {
        newest = nil
        awaited = [:]
        expired = [:]
        withDeadline = 0
    }
}
