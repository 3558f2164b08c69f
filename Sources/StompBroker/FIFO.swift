/// A first-in first-out queue with O(1) amortised append and removal at the front, and cheap
/// putting back at the front (redelivery). Popped slots are cleared at once so message bodies
/// are released when delivered, not when the storage is next compacted; compaction copies the live
/// elements into storage of their own size, so a queue that drained gives its memory back.
struct FIFO<Element> {
    private var storage: [Element?] = []
    private var head = 0

    var count: Int { storage.count - head }
    var isEmpty: Bool { head == storage.count }
    var first: Element? { isEmpty ? nil : storage[head] }

    mutating func append(_ element: Element) {
        storage.append(element)
    }

    mutating func popFirst() -> Element? {
        guard head < storage.count else { return nil }
        let element = storage[head]
        storage[head] = nil
        head += 1
        if head == storage.count {
            storage.removeAll(keepingCapacity: storage.count <= 4096)
            head = 0
        } else if head >= 1024 && head * 2 >= storage.count {
            storage = Array(storage[head...])   // a fresh, tight buffer: removeFirst would keep the old capacity
            head = 0
        }
        return element
    }

    /// Puts `elements` back in front, keeping their order (they come out next, first one first).
    mutating func prepend(contentsOf elements: [Element]) {
        guard !elements.isEmpty else { return }
        if head >= elements.count {
            head -= elements.count
            for (i, e) in elements.enumerated() { storage[head + i] = e }
        } else {
            storage = elements.map { Optional($0) } + storage[head...]
            head = 0
        }
    }

    /// Slots allocated (for tests of memory release).
    var capacity: Int { storage.capacity }

    /// The elements, front first.
    var elements: [Element] { storage[head...].map { $0! } }

    /// Keeps only the elements for which `keep` is true (order kept).
    mutating func retain(_ keep: (Element) -> Bool) {
        storage = storage[head...].filter { keep($0!) }
        head = 0
    }

    /// Removes every element, releasing the storage.
    mutating func removeAll() {
        storage = []
        head = 0
    }
}
