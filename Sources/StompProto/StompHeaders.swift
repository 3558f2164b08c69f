/// A frame's headers: an ordered list where repeats are kept. Lookup returns the FIRST
/// occurrence, as the spec says ("only the first header entry SHOULD be used").
public struct StompHeaders: Sendable, Equatable, Sequence, ExpressibleByDictionaryLiteral {
    /// One header line, after unescaping.
    @usableFromInline
    struct Entry: Sendable, Equatable {
        @usableFromInline var name: String
        @usableFromInline var value: String
        @inlinable init(_ name: String, _ value: String) { self.name = name; self.value = value }
    }

    @usableFromInline
    var entries: [Entry]

    public init() { entries = [] }

    /// Empty, with room for `capacity` lines (one allocation for a frame built line by line).
    public init(minimumCapacity capacity: Int) {
        entries = []
        entries.reserveCapacity(capacity)
    }

    public init(_ pairs: [(String, String)]) {
        entries = pairs.map { Entry($0.0, $0.1) }
    }

    public init(dictionaryLiteral elements: (String, String)...) {
        entries = elements.map { Entry($0.0, $0.1) }
    }

    @inlinable
    init(entries: [Entry]) { self.entries = entries }

    /// Number of header lines, repeats included.
    public var count: Int { entries.count }

    public var isEmpty: Bool { entries.isEmpty }

    /// Get: the first value for `name`. Set: replaces the first (appends if none); nil removes all.
    public subscript(name: String) -> String? {
        get {
            for e in entries where e.name == name { return e.value }
            return nil
        }
        set {
            guard let newValue else { removeAll(name); return }
            if let i = entries.firstIndex(where: { $0.name == name }) {
                entries[i].value = newValue
            } else {
                entries.append(Entry(name, newValue))
            }
        }
    }

    /// Every value for `name`, in order.
    public func values(for name: String) -> [String] {
        entries.compactMap { $0.name == name ? $0.value : nil }
    }

    /// Adds a line at the end (after any existing one of the same name, which keeps precedence).
    public mutating func append(_ name: String, _ value: String) {
        entries.append(Entry(name, value))
    }

    /// Removes every line named `name`.
    public mutating func removeAll(_ name: String) {
        entries.removeAll { $0.name == name }
    }

    public func contains(_ name: String) -> Bool {
        entries.contains { $0.name == name }
    }

    /// All lines in order.
    public var pairs: [(name: String, value: String)] {
        entries.map { (name: $0.name, value: $0.value) }
    }

    public struct Iterator: IteratorProtocol {
        var base: IndexingIterator<[Entry]>
        public mutating func next() -> (name: String, value: String)? {
            base.next().map { (name: $0.name, value: $0.value) }
        }
    }

    public func makeIterator() -> Iterator { Iterator(base: entries.makeIterator()) }

    public var underestimatedCount: Int { entries.count }
}

extension StompHeaders: CustomStringConvertible {
    public var description: String {
        "[" + entries.map { "\($0.name):\($0.value)" }.joined(separator: ", ") + "]"
    }
}
