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

    /// Marks `seq`; returns false if it was marked already.
    mutating func insert(_ seq: Int) -> Bool {
        if words.isEmpty { base = seq & ~63 }
        if seq < base {
            let newBase = seq & ~63
            words.insert(contentsOf: repeatElement(0, count: (base - newBase) / 64), at: 0)
            base = newBase
        }
        let index = (seq - base) >> 6
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
    var streams: [String: SequenceBitmap] = [:]
    var last: [String: Int] = [:]
    /// Messages whose number had arrived before.
    public private(set) var duplicates = 0
    /// Messages that came after a higher number of their stream.
    public private(set) var outOfOrder = 0
    /// Messages without the bench headers (another sender, or `--prebuilt`).
    public private(set) var unsequenced = 0

    public init() {}

    /// Notes one message's stream and sequence number (nil: not a bench message).
    public mutating func note(stream: String?, sequence: Int?) {
        guard let stream, let sequence else { unsequenced += 1; return }
        if !streams[stream, default: SequenceBitmap()].insert(sequence) {
            duplicates += 1
            return
        }
        if let l = last[stream], sequence < l { outOfOrder += 1 } else { last[stream] = sequence }
    }

    /// Numbers missing inside the range seen of each stream (a message consumed elsewhere, before or after this
    /// run, is outside the range, not lost).
    public var lost: Int { streams.values.reduce(0) { $0 + $1.gaps } }
    /// Sender streams seen.
    public var streamCount: Int { streams.count }
    public var sequenced: Int { streams.values.reduce(0) { $0 + $1.distinct } }

    /// Several consumers' checks as one: numbers seen by two consumers are duplicates.
    public static func merged(_ parts: [BenchStreamCheck]) -> BenchStreamCheck {
        var out = BenchStreamCheck()
        for p in parts {
            out.duplicates += p.duplicates
            out.outOfOrder += p.outOfOrder
            out.unsequenced += p.unsequenced
            for (name, bits) in p.streams {
                guard var mine = out.streams[name] else { out.streams[name] = bits; continue }
                for (k, w) in bits.words.enumerated() where w != 0 {
                    for b in 0..<64 where w & (UInt64(1) << UInt64(b)) != 0 {
                        if !mine.insert(bits.base + k * 64 + b) { out.duplicates += 1 }
                    }
                }
                out.streams[name] = mine
            }
        }
        return out
    }
}
