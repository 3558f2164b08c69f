#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A frame's headers: an ordered list where repeats are kept. Lookup returns the FIRST
/// occurrence, as the spec says ("only the first header entry SHOULD be used").
///
/// Kept as bytes: the unescaped UTF-8 of every name and value in one buffer, and one small record
/// of offsets per line. The decoder fills them with byte copies and the encoder writes them back
/// with byte copies; Strings are made only when a header is read. Names are matched byte for byte
/// (STOMP names are case-sensitive octet sequences), and equality compares the lines' bytes.
public struct StompHeaders: Sendable, Equatable, Sequence, ExpressibleByDictionaryLiteral {
    /// One header line: where its name and value lie in `storage`.
    @usableFromInline
    struct Span: Sendable {
        @usableFromInline var nameStart: Int
        @usableFromInline var nameCount: Int
        @usableFromInline var valueStart: Int
        @usableFromInline var valueCount: Int
        /// Neither name nor value has a byte that escaping looks at (LF, CR, ':', '\\'): written as is in
        /// every version (the encoder copies it without scanning).
        @usableFromInline var plain: Bool
        @inlinable init(nameStart: Int, nameCount: Int, valueStart: Int, valueCount: Int, plain: Bool) {
            self.nameStart = nameStart; self.nameCount = nameCount
            self.valueStart = valueStart; self.valueCount = valueCount
            self.plain = plain
        }
    }

    /// Unescaped UTF-8 of the names and values (plus bytes left unused by edits: see `dead`).
    @usableFromInline var storage: [UInt8]
    /// The lines, in order.
    @usableFromInline var spans: [Span]
    /// Bytes of `storage` no span points at any more (edits); the buffer is compacted when they dominate.
    /// Kept in 32 bits, saturating (an over-count only makes the encoder's room estimate larger and compaction
    /// later), so that the struct stays 24 bytes: the inline buffer of an existential, no box when one is made.
    @usableFromInline var dead: Int {
        get { Int(deadBytes) }
        set { deadBytes = Int32(clamping: newValue) }
    }
    @usableFromInline var deadBytes: Int32 = 0
    /// Headers from a `FrameDecoder`, not edited since: `storage[0..<receivedCount]` are the header lines exactly
    /// as received (escaped, each ending in LF) and exactly as the encoder writes these lines in `receivedMode`
    /// (no CR, no second raw ':' where escaping applies), so it copies them instead of escaping line by line.
    /// Lines with escapes point at their unescaped bytes after the block. Packed: 0 when there are none (every
    /// edit sets 0), else the byte count << 2 | the mode's code (1 none, 2 v1_1, 3 v1_2).
    var received: UInt32 = 0

    /// The received lines' byte count, -1 when there are none.
    var receivedCount: Int { received == 0 ? -1 : Int(received >> 2) }

    /// The escaping the received lines are in (meaningful when `receivedCount >= 0`).
    var receivedMode: HeaderEscaping.Mode {
        switch received & 3 {
        case 2: return .v1_1
        case 3: return .v1_2
        default: return .none
        }
    }

    public init() { storage = []; spans = [] }

    /// Empty, with room for `capacity` lines (one allocation each for the lines and their bytes).
    public init(minimumCapacity capacity: Int) {
        storage = []
        spans = []
        storage.reserveCapacity(capacity * 32)
        spans.reserveCapacity(capacity)
    }

    public init(_ pairs: [(String, String)]) {
        self.init(minimumCapacity: pairs.count)
        for (name, value) in pairs { append(name, value) }
    }

    public init(dictionaryLiteral elements: (String, String)...) {
        self.init(minimumCapacity: elements.count)
        for (name, value) in elements { append(name, value) }
    }

    /// The decoder's constructor: bytes validated as UTF-8, the spans pointing at unescaped bytes; the lines as
    /// received in `storage[0..<received]` when the encoder would write them the same in `mode` (else -1).
    init(storage: [UInt8], spans: [Span], dead: Int, received: Int = -1, mode: HeaderEscaping.Mode = .none) {
        self.storage = storage
        self.spans = spans
        self.dead = dead
        if received >= 0 && received < 1 << 30 {
            let code: UInt32
            switch mode {
            case .none: code = 1
            case .v1_1: code = 2
            case .v1_2: code = 3
            }
            self.received = UInt32(received) << 2 | code
        }
    }

    /// Calls `body` with the header lines exactly as a `FrameDecoder` received them (escaped, each ending in LF),
    /// when these headers came from one, have not been edited since, and are what the encoder writes back for
    /// them in the same version (LF line ends, no raw CR, no second raw ':' where escaping applies); nil
    /// otherwise. The buffer is valid only during the call.
    public func withReceivedLines<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R? {
        guard receivedCount >= 0 else { return nil }
        return try storage.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[0..<receivedCount])) }
    }

    /// The received lines' byte count when the encoder may copy them for escaping `mode`, else nil.
    @inline(__always)
    func receivedLineBytes(for mode: HeaderEscaping.Mode) -> Int? {
        received != 0 && receivedMode == mode ? Int(received >> 2) : nil
    }

    /// Number of header lines, repeats included.
    public var count: Int { spans.count }

    public var isEmpty: Bool { spans.isEmpty }

    /// Get: the first value for `name`. Set: replaces the first (appends if none); nil removes all.
    public subscript(name: String) -> String? {
        get {
            guard let i = firstIndex(name) else { return nil }
            let s = spans[i]
            return string(s.valueStart, s.valueCount)
        }
        set {
            guard let newValue else { removeAll(name); return }
            guard let i = firstIndex(name) else { append(name, newValue); return }
            received = 0
            HeaderEscaping.withUTF8(newValue) { v in
                let old = spans[i]
                spans[i].plain = old.plain && Self.isPlain(v)
                if v.count <= old.valueCount {   // fits where the old value was
                    if v.count > 0 {
                        storage.withUnsafeMutableBufferPointer { s in
                            (s.baseAddress! + old.valueStart).update(from: v.baseAddress!, count: v.count)
                        }
                    }
                    spans[i].valueCount = v.count
                    dead += old.valueCount - v.count
                } else {
                    spans[i].valueStart = storage.count
                    spans[i].valueCount = v.count
                    storage.append(contentsOf: v)
                    dead += old.valueCount
                }
            }
            compactIfWasteful()
        }
    }

    /// Every value for `name`, in order.
    public func values(for name: String) -> [String] {
        var out: [String] = []
        forEachIndex(of: name) { i in out.append(string(spans[i].valueStart, spans[i].valueCount)) }
        return out
    }

    /// Adds a line at the end (after any existing one of the same name, which keeps precedence).
    public mutating func append(_ name: String, _ value: String) {
        HeaderEscaping.withUTF8(name) { n in
            HeaderEscaping.withUTF8(value) { v in appendLine(name: n, value: v) }
        }
    }

    /// Adds a line from the bytes of its name and value: the room for both is made at once (one growth at
    /// most, doubling), so a line costs two copies and one plainness scan of each part.
    @inline(__always)
    mutating func appendLine(name n: UnsafeBufferPointer<UInt8>, value v: UnsafeBufferPointer<UInt8>) {
        appendLine(name: n, value: v, valueIsPlain: Self.isPlain(v))
    }

    /// `appendLine(name:value:)` for a value whose plainness the caller knows (digits: nothing to escape).
    @inline(__always)
    mutating func appendLine(name n: UnsafeBufferPointer<UInt8>, value v: UnsafeBufferPointer<UInt8>, valueIsPlain: Bool) {
        received = 0
        let nameStart = storage.count
        let needed = nameStart + n.count + v.count
        if storage.capacity < needed { storage.reserveCapacity(Swift.max(needed, storage.capacity * 2, 64)) }
        if spans.capacity == spans.count { spans.reserveCapacity(Swift.max(spans.count * 2, 4)) }
        storage.append(contentsOf: n)
        storage.append(contentsOf: v)
        spans.append(Span(nameStart: nameStart, nameCount: n.count, valueStart: nameStart + n.count,
                          valueCount: v.count, plain: valueIsPlain && Self.isPlain(n)))
    }

    /// Adds a line whose value is `n` in decimal, the digits written into the buffer (no String made): two
    /// digits a step from a table, in 32-bit arithmetic on chunks of 8 digits (a 19-digit timestamp costs a
    /// few dozen instructions), into a small stack buffer appended with the name in one line.
    public mutating func append(_ name: String, decimal n: UInt64) {
        // "00", "01", ... "99" (read-only data: no array, no lazy global)
        let pairs: StaticString = """
            00010203040506070809101112131415161718192021222324252627282930313233343536373839\
            40414243444546474849505152535455565758596061626364656667686970717273747576777879\
            8081828384858687888990919293949596979899
            """
        let table = pairs.utf8Start
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 24) { buf in
            let end = buf.baseAddress! + 24
            var d = end
            // Writes the 8 digits of `v` (< 10^8, zero-padded) ending at `d`, two at a time.
            @inline(__always) func eight(_ v: UInt32, _ d: inout UnsafeMutablePointer<UInt8>) {
                var v = v
                for _ in 0..<4 {
                    let r = Int(v % 100)
                    v /= 100
                    d -= 2
                    d[0] = table[2 &* r]
                    d[1] = table[2 &* r &+ 1]
                }
            }
            var x = n
            while x >= 100_000_000 {
                eight(UInt32(truncatingIfNeeded: x % 100_000_000), &d)
                x /= 100_000_000
            }
            var v = UInt32(truncatingIfNeeded: x)   // the leading chunk: no zero padding
            while v >= 100 {
                let r = Int(v % 100)
                v /= 100
                d -= 2
                d[0] = table[2 &* r]
                d[1] = table[2 &* r &+ 1]
            }
            if v >= 10 {
                d -= 2
                d[0] = table[2 &* Int(v)]
                d[1] = table[2 &* Int(v) &+ 1]
            } else {
                d -= 1
                d[0] = 0x30 &+ UInt8(truncatingIfNeeded: v)
            }
            let digits = UnsafeBufferPointer(start: UnsafePointer(d), count: end - d)
            HeaderEscaping.withUTF8(name) { n in appendLine(name: n, value: digits, valueIsPlain: true) }
        }
    }

    /// Adds a line named `name` whose value is the first value of `source` in `other`, its bytes copied (no
    /// String made). False, and nothing added, when `other` has no line named `source`.
    @discardableResult
    public mutating func append(_ name: String, copyingValueOf source: String, from other: StompHeaders) -> Bool {
        guard let i = other.firstIndex(source) else { return false }
        let s = other.spans[i]
        HeaderEscaping.withUTF8(name) { n in
            other.storage.withUnsafeBufferPointer { o in
                appendLine(name: n, value: UnsafeBufferPointer(rebasing: o[s.valueStart..<s.valueStart + s.valueCount]))
            }
        }
        return true
    }

    /// Keeps the first `n` lines and drops the rest; the room they took is kept for the next appends (a
    /// uniquely held value is edited in place: a per-message tail on a fixed head allocates nothing).
    public mutating func removeLines(from n: Int) {
        guard n >= 0, n < spans.count else { return }
        received = 0
        var end = 0, used = 0
        for i in 0..<n {
            end = Swift.max(end, spans[i].valueStart + spans[i].valueCount)
            used += spans[i].nameCount + spans[i].valueCount
        }
        spans.removeSubrange(n...)
        storage.removeSubrange(end...)
        dead = end - used
    }

    /// Removes every line named `name`.
    public mutating func removeAll(_ name: String) {
        var removed: [Int] = []
        forEachIndex(of: name) { removed.append($0) }
        guard !removed.isEmpty else { return }
        received = 0
        for i in removed.reversed() {
            dead += spans[i].nameCount + spans[i].valueCount
            spans.remove(at: i)
        }
        if spans.isEmpty {
            storage.removeAll(keepingCapacity: true)
            dead = 0
        } else {
            compactIfWasteful()
        }
    }

    public func contains(_ name: String) -> Bool { firstIndex(name) != nil }

    /// All lines in order.
    public var pairs: [(name: String, value: String)] {
        var out: [(name: String, value: String)] = []
        out.reserveCapacity(spans.count)
        for i in spans.indices { out.append(line(i)) }
        return out
    }

    /// Calls `body` with the bytes (unescaped UTF-8) of the first value for `name`; nil when there is none.
    /// For hot paths that compare or copy a value without making a String.
    /// Inlinable so that a caller in another module gets it specialised (unspecialised, the generic
    /// `Array.withUnsafeBytes` inside cost ~850 instructions a message in `bench consume`).
    @inlinable
    public func withValueBytes<R>(for name: String, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R? {
        guard let r = valueRange(for: name) else { return nil }
        return try storage.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[r])) }
    }

    /// Where the first value for `name` lies in `storage` (`withValueBytes`' lookup, not generic).
    @usableFromInline
    func valueRange(for name: String) -> Range<Int>? {
        guard let i = firstIndex(name) else { return nil }
        let s = spans[i]
        return s.valueStart..<s.valueStart + s.valueCount
    }

    /// Calls `body` with every line's name and value bytes (unescaped UTF-8), in order, repeats included: for
    /// writers that copy headers out (printing, JSON) without making a String per header. The buffers are valid
    /// only during the call. Inlinable so that a writer in another module gets the closure inlined (not one
    /// closure call per line: ~1,200 instructions a printed bench message).
    @inlinable
    public func forEachLineBytes(_ body: (_ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> Void) rethrows {
        try storage.withUnsafeBytes { all in
            for s in spans {
                try body(UnsafeRawBufferPointer(rebasing: all[s.nameStart..<s.nameStart + s.nameCount]),
                         UnsafeRawBufferPointer(rebasing: all[s.valueStart..<s.valueStart + s.valueCount]))
            }
        }
    }

    /// Bytes of all names and values, repeats included (no String made).
    @inlinable
    public var contentByteCount: Int { spans.reduce(0) { $0 + $1.nameCount + $1.valueCount } }

    /// Whether the first value for `name` is `value`, compared byte for byte (no String made); false when
    /// there is none.
    public func value(of name: String, is value: String) -> Bool {
        guard let i = firstIndex(name) else { return false }
        return valueIs(i, value)
    }

    /// Whether there is a line named `name` (a static ASCII string: no String made).
    public func contains(static name: StaticString) -> Bool { firstIndex(name) != nil }

    /// The first value for `name` (a static ASCII string: the name is matched without making a String).
    public func value(_ name: StaticString) -> String? {
        guard let i = firstIndex(name) else { return nil }
        return string(spans[i].valueStart, spans[i].valueCount)
    }

    public struct Iterator: IteratorProtocol {
        let headers: StompHeaders
        var index = 0
        public mutating func next() -> (name: String, value: String)? {
            guard index < headers.spans.count else { return nil }
            defer { index += 1 }
            return headers.line(index)
        }
    }

    public func makeIterator() -> Iterator { Iterator(headers: self) }

    public var underestimatedCount: Int { spans.count }

    /// Same lines in the same order, byte for byte.
    public static func == (a: StompHeaders, b: StompHeaders) -> Bool {
        guard a.spans.count == b.spans.count else { return false }
        return a.storage.withUnsafeBufferPointer { sa in
            b.storage.withUnsafeBufferPointer { sb in
                for i in a.spans.indices {
                    let x = a.spans[i], y = b.spans[i]
                    guard bytesEqual(sa, x.nameStart, x.nameCount, sb, y.nameStart, y.nameCount),
                          bytesEqual(sa, x.valueStart, x.valueCount, sb, y.valueStart, y.valueCount) else { return false }
                }
                return true
            }
        }
    }

    // MARK: - Byte level (this module)

    /// Line `i` as Strings.
    @inline(__always)
    func line(_ i: Int) -> (name: String, value: String) {
        let s = spans[i]
        return (name: string(s.nameStart, s.nameCount), value: string(s.valueStart, s.valueCount))
    }

    /// The stored bytes `start..<start+count` as a String (they are valid UTF-8).
    @inline(__always)
    func string(_ start: Int, _ count: Int) -> String {
        guard count > 0 else { return "" }
        return storage.withUnsafeBufferPointer {
            String(decoding: UnsafeBufferPointer(rebasing: $0[start..<start + count]), as: UTF8.self)
        }
    }

    @inline(__always)
    static func bytesEqual(_ a: UnsafeBufferPointer<UInt8>, _ aStart: Int, _ aCount: Int,
                           _ b: UnsafeBufferPointer<UInt8>, _ bStart: Int, _ bCount: Int) -> Bool {
        aCount == bCount && (aCount == 0 || memcmp(a.baseAddress! + aStart, b.baseAddress! + bStart, aCount) == 0)
    }

    /// Index of the first line named by the bytes `name`.
    @inline(__always)
    func firstIndex(bytes name: UnsafeBufferPointer<UInt8>) -> Int? {
        storage.withUnsafeBufferPointer { s in
            spans.withUnsafeBufferPointer { lines in
                for i in 0..<lines.count where lines[i].nameCount == name.count {
                    if name.count == 0 || memcmp(s.baseAddress! + lines[i].nameStart, name.baseAddress!, name.count) == 0 {
                        return i
                    }
                }
                return nil
            }
        }
    }

    /// Index of the first line named `name`.
    @inline(__always)
    func firstIndex(_ name: String) -> Int? {
        HeaderEscaping.withUTF8(name) { firstIndex(bytes: $0) }
    }

    /// Index of the first line whose name is `name` (a static ASCII string: no String made).
    @inline(__always)
    func firstIndex(_ name: StaticString) -> Int? {
        firstIndex(bytes: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
    }

    /// Calls `body` with the index of every line named `name`, in order.
    func forEachIndex(of name: String, _ body: (Int) -> Void) {
        HeaderEscaping.withUTF8(name) { n in
            storage.withUnsafeBufferPointer { s in
                for i in spans.indices where spans[i].nameCount == n.count {
                    if n.count == 0 || memcmp(s.baseAddress! + spans[i].nameStart, n.baseAddress!, n.count) == 0 { body(i) }
                }
            }
        }
    }

    /// Whether line `i`'s value is the UTF-8 of `value`.
    @inline(__always)
    func valueIs(_ i: Int, _ value: String) -> Bool {
        let sp = spans[i]
        return HeaderEscaping.withUTF8(value) { v in
            storage.withUnsafeBufferPointer { s in Self.bytesEqual(s, sp.valueStart, sp.valueCount, v, 0, v.count) }
        }
    }

    /// Whether line `i`'s name is `name`.
    @inline(__always)
    func nameIs(_ i: Int, _ name: StaticString) -> Bool {
        let s = spans[i]
        guard s.nameCount == name.utf8CodeUnitCount else { return false }
        return storage.withUnsafeBufferPointer { memcmp($0.baseAddress! + s.nameStart, name.utf8Start, s.nameCount) == 0 }
    }

    /// Appends line `i` of `other`, copying its bytes.
    @inline(__always)
    mutating func appendLine(_ i: Int, of other: StompHeaders) {
        received = 0
        let s = other.spans[i]
        let nameStart = storage.count
        let needed = nameStart + s.nameCount + s.valueCount
        if storage.capacity < needed { storage.reserveCapacity(Swift.max(needed, storage.capacity * 2, 64)) }
        if spans.capacity == spans.count { spans.reserveCapacity(Swift.max(spans.count * 2, 4)) }
        other.storage.withUnsafeBufferPointer { o in
            storage.append(contentsOf: UnsafeBufferPointer(rebasing: o[s.nameStart..<s.nameStart + s.nameCount]))
            storage.append(contentsOf: UnsafeBufferPointer(rebasing: o[s.valueStart..<s.valueStart + s.valueCount]))
        }
        spans.append(Span(nameStart: nameStart, nameCount: s.nameCount,
                          valueStart: nameStart + s.nameCount, valueCount: s.valueCount, plain: s.plain))
    }

    /// No byte of `p` needs a look when escaping (see `Span.plain`).
    @inline(__always)
    static func isPlain(_ p: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = p.baseAddress else { return true }
        return HeaderEscaping.isPlain(base, p.count)
    }

    /// Total bytes of the names and values (what the lines take on the wire before escaping).
    var byteCount: Int { storage.count - dead }

    /// Rewrites `storage` without its dead bytes once they are most of it (edits in a loop stay bounded).
    private mutating func compactIfWasteful() {
        guard dead > 64, dead * 2 > storage.count else { return }
        var fresh = StompHeaders(minimumCapacity: 0)
        fresh.storage.reserveCapacity(storage.count - dead)
        fresh.spans.reserveCapacity(spans.count)
        for i in spans.indices { fresh.appendLine(i, of: self) }
        self = fresh
    }
}

extension StompHeaders: CustomStringConvertible {
    public var description: String {
        "[" + pairs.map { "\($0.name):\($0.value)" }.joined(separator: ", ") + "]"
    }
}
