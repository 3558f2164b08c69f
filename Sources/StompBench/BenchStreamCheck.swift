// What `bench consume` checks of the messages it counts: per sender stream, which sequence numbers arrived
// (a bitmap over the range seen), how many came twice, how many came after a higher one, and what is missing
// inside the range seen (lost). Pure; one per connection, merged at the end.

/// Sequence numbers seen in one stream.
struct SequenceBitmap: Sendable {
    /// Sequence number of bit 0 of `words[0]` (a multiple of 64).
    var base = 0
    var words: [UInt64] = []
    var lowest = Int.max
    var highest = Int.min
    var distinct = 0

    /// The widest range of numbers one stream may span (8 MiB of bitmap): a sender whose numbers jump further
    /// (not a bench, or hostile) cannot make the check grow without bound.
    static let maxSpan = 1 << 26

    /// Marks `seq`; returns false if it was marked already, nil if it lies too far from the others.
    mutating func insert(_ seq: Int) -> Bool? {
        guard seq >= Int.min / 2, seq <= Int.max / 2 else { return nil }
        if words.isEmpty { base = seq & ~63 }
        if seq < base {
            let newBase = seq & ~63
            guard base - newBase + words.count * 64 <= Self.maxSpan else { return nil }
            words.insert(contentsOf: repeatElement(0, count: (base - newBase) / 64), at: 0)
            base = newBase
        }
        let index = (seq - base) >> 6
        guard index < Self.maxSpan / 64 else { return nil }
        if index >= words.count { words.append(contentsOf: repeatElement(0, count: index - words.count + 1)) }
        let bit = UInt64(1) << UInt64((seq - base) & 63)
        if words[index] & bit != 0 { return false }
        words[index] |= bit
        distinct += 1
        lowest = min(lowest, seq)
        highest = max(highest, seq)
        return true
    }

    func contains(_ seq: Int) -> Bool {
        guard !words.isEmpty, seq >= base else { return false }
        let index = (seq - base) >> 6
        guard index < words.count else { return false }
        return words[index] & (UInt64(1) << UInt64((seq - base) & 63)) != 0
    }

    /// Numbers missing between the lowest and the highest seen.
    var gaps: Int { distinct == 0 ? 0 : highest - lowest + 1 - distinct }
}

/// The sequence check of one consumer (or of several, merged).
public struct BenchStreamCheck: Sendable {
    /// Per stream: the numbers seen and the highest so far (for out-of-order).
    struct Stream: Sendable {
        var seen = SequenceBitmap()
        var last = Int.min
    }
    var index: [String: Int] = [:]
    var streams: [Stream] = []
    /// The stream of the previous message (consecutive messages mostly share it: no hashing for them).
    var cachedName: String?
    var cachedIndex = 0
    /// Messages whose number had arrived before.
    public private(set) var duplicates = 0
    /// Messages that came after a higher number of their stream.
    public private(set) var outOfOrder = 0
    /// Messages without the bench headers (another sender, or `--prebuilt`), or whose number or stream the check
    /// cannot keep (more than `maxStreams` streams, a number further than `SequenceBitmap.maxSpan` from the rest).
    public private(set) var unsequenced = 0
    /// Streams the check keeps apart; messages of further streams count as unsequenced.
    static let maxStreams = 4096

    public init() {}

    /// Notes one message's stream and sequence number (nil: not a bench message).
    public mutating func note(stream: String?, sequence: Int?) {
        guard let stream, let sequence else { unsequenced += 1; return }
        let k: Int
        if let c = cachedName, c == stream {
            k = cachedIndex
        } else if let known = index[stream] {
            k = known
            cachedName = stream
            cachedIndex = k
        } else {
            guard streams.count < Self.maxStreams else { unsequenced += 1; return }
            k = streams.count
            streams.append(Stream())
            index[stream] = k
            cachedName = stream
            cachedIndex = k
        }
        switch streams[k].seen.insert(sequence) {
        case nil: unsequenced += 1; return
        case false?: duplicates += 1; return
        case true?: break
        }
        if sequence < streams[k].last { outOfOrder += 1 } else { streams[k].last = sequence }
    }

    /// Numbers missing inside the range seen of each stream (a message consumed elsewhere, before or after this
    /// run, is outside the range, not lost).
    public var lost: Int { streams.reduce(0) { $0 + $1.seen.gaps } }
    /// Sender streams seen.
    public var streamCount: Int { streams.count }
    public var sequenced: Int { streams.reduce(0) { $0 + $1.seen.distinct } }

    /// Several consumers' checks as one: numbers seen by two consumers are duplicates.
    public static func merged(_ parts: [BenchStreamCheck]) -> BenchStreamCheck {
        var out = BenchStreamCheck()
        for p in parts {
            out.duplicates += p.duplicates
            out.outOfOrder += p.outOfOrder
            out.unsequenced += p.unsequenced
            for (name, k) in p.index {
                let bits = p.streams[k].seen
                guard let mine = out.index[name] else {
                    out.index[name] = out.streams.count
                    out.streams.append(p.streams[k])
                    continue
                }
                for (w, word) in bits.words.enumerated() where word != 0 {
                    for b in 0..<64 where word & (UInt64(1) << UInt64(b)) != 0 {
                        if out.streams[mine].seen.insert(bits.base + w * 64 + b) == false { out.duplicates += 1 }
                    }
                }
            }
        }
        return out
    }
}
