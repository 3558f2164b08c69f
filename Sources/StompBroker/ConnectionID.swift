/// One client connection of the broker, numbered from 1 in the order they were opened.
public struct ConnectionID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var value: UInt64
    public init(_ value: UInt64) { self.value = value }
    public var description: String { String(value) }
    public static func < (a: ConnectionID, b: ConnectionID) -> Bool { a.value < b.value }
}
