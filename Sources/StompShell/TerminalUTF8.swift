// Keys arrive from the terminal as UTF-8 bytes, sometimes split across reads. The stdlib's parser decodes them;
// this only tells a character cut short by the read (wait for the rest) from bytes that are not UTF-8.

enum TerminalUTF8 {
    enum First: Equatable {
        /// A character and how many bytes it took.
        case scalar(Unicode.Scalar, length: Int)
        /// Bytes that can never start a character (shown as U+FFFD).
        case invalid(length: Int)
        /// The start of a character whose remaining bytes have not arrived yet.
        case incomplete
    }

    /// The first character of `bytes`, nil for no bytes.
    static func first<C: Collection>(_ bytes: C) -> First? where C.Element == UInt8 {
        guard !bytes.isEmpty else { return nil }
        var iterator = bytes.makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        switch parser.parseScalar(from: &iterator) {
        case .valid(let encoded):
            return .scalar(Unicode.UTF8.decode(encoded), length: encoded.count)
        case .error(let length):
            // The stdlib reports the maximal invalid prefix: when that is everything there is (and shorter than
            // a character can be), it is a character cut short, not a wrong one.
            return length == bytes.count && length < 4 ? .incomplete : .invalid(length: length)
        case .emptyInput:
            return nil
        }
    }
}
