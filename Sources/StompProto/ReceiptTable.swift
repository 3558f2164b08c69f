/// The session's one table of receipts: those awaited (request order, purpose, optional deadline) and those
/// given up on at their deadline, remembered (bounded) so that a RECEIPT arriving after its timeout is
/// recognised as late rather than unknown. Pure: time enters only as `StompInstant` arguments.
struct ReceiptTable: Sendable {
    struct Awaited: Sendable {
        var seq: Int
        var purpose: ReceiptPurpose
        var deadline: StompInstant?
    }

    private(set) var awaited: [String: Awaited] = [:]
    /// Timed-out ids and their purpose; emptied when it reaches `StompSession.expiredReceiptMemory`.
    private var expired: [String: ReceiptPurpose] = [:]
    /// How many awaited receipts have a deadline (no scan at all while none has one: raw frames, benches).
    private var withDeadline = 0

    subscript(id: String) -> Awaited? { awaited[id] }

    mutating func add(_ id: String, seq: Int, purpose: ReceiptPurpose) {
        if awaited.updateValue(Awaited(seq: seq, purpose: purpose), forKey: id)?.deadline != nil { withDeadline -= 1 }
        if !expired.isEmpty { expired[id] = nil }
    }

    /// False when `id` is not awaited.
    mutating func setDeadline(_ id: String, _ deadline: StompInstant) -> Bool {
        guard let old = awaited[id] else { return false }
        if old.deadline == nil { withDeadline += 1 }
        awaited[id]!.deadline = deadline
        return true
    }

    /// Stops awaiting `id`; its entry if it was awaited.
    mutating func remove(_ id: String) -> Awaited? {
        guard let r = awaited.removeValue(forKey: id) else { return nil }
        if r.deadline != nil { withDeadline -= 1 }
        return r
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
        return earliest
    }

    /// Awaited ids in request order.
    var ids: [String] { awaited.sorted { $0.value.seq < $1.value.seq }.map(\.key) }

    mutating func removeAll() {
        awaited = [:]
        expired = [:]
        withDeadline = 0
    }
}
