// The callbacks a client calls on its event loop (interceptors, read-end and link-lost observers): one list shape,
// each entry removable by the token `add` gave.

/// Callbacks in the order they were added, each removable by its token. A token names its list (`kind`), so a
/// token of another list removes nothing here. Not thread-safe: the owner guards it (a lock, or its event loop).
struct ObserverList<Callback> {
    private(set) var callbacks: [(id: Int, call: Callback)] = []
    private var lastID = 0
    private let kind: InterceptorToken.Kind

    init(_ kind: InterceptorToken.Kind) { self.kind = kind }

    mutating func add(_ callback: Callback) -> InterceptorToken {
        lastID += 1
        callbacks.append((lastID, callback))
        return InterceptorToken(kind: kind, id: lastID)
    }

    mutating func remove(_ token: InterceptorToken) {
        guard token.kind == kind else { return }
        callbacks.removeAll { $0.id == token.id }
    }
}
