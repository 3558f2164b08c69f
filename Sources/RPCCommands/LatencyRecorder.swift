// Latency statistics on an HDR histogram, shared by `rpc bench` and the `bench` commands.
import Foundation
import Histogram

/// Records latencies in nanoseconds (3 significant digits, 1 ns .. 1 h, grows as needed). Not thread-safe:
/// record from one thread (e.g. the event loop) and merge recorders to combine.
public struct LatencyRecorder: Sendable {
    public private(set) var histogram: Histogram<UInt64>
    /// Sum of the recorded values, for the exact mean (the histogram's own mean walks every recorded bucket
    /// through unspecialised generic code: tens of millions of instructions for a wide spread of latencies).
    private var sum: Double = 0

    public init() {
        histogram = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000_000,
                                      numberOfSignificantValueDigits: .three)
        histogram.autoResize = true
    }

    public var count: UInt64 { histogram.totalCount }

    @inline(__always) public mutating func record(nanoseconds: UInt64) {
        let v = max(nanoseconds, 1)
        _ = histogram.record(v)
        sum += Double(v)
    }

    public mutating func merge(_ other: LatencyRecorder) {
        histogram.add(other.histogram)
        sum += other.sum
    }
    public mutating func reset() {
        histogram.reset()
        sum = 0
    }

    /// The percentiles of `summary()`, ascending.
    static let summaryPercentiles: [Double] = [50, 90, 99, 99.9]

    /// Min, p50, p90, p99, p99.9, max and mean. The four percentiles come from one walk over the recorded buckets
    /// (the histogram's `valueAtPercentile` walks every bucket through unspecialised generic code, once per
    /// percentile: millions of instructions a summary) and equal `valueAtPercentile`'s exactly.
    public func summary() -> LatencySummary {
        let h = histogram
        guard h.totalCount > 0 else { return LatencySummary() }
        let p = Self.percentiles(h, Self.summaryPercentiles)
        return LatencySummary(count: h.totalCount, minNanoseconds: h.min, p50Nanoseconds: p[0],
                              p90Nanoseconds: p[1], p99Nanoseconds: p[2],
                              p999Nanoseconds: p[3], maxNanoseconds: h.max,
                              meanNanoseconds: sum / Double(h.totalCount))
    }

    /// `h.valueAtPercentile(q)` for each of `ascending` (each in (0, 100)), in one pass over the recorded values.
    /// Same arithmetic as `valueAtPercentile`: the first bucket whose cumulative count reaches
    /// ceil(nextDown(q) × total / 100) (at least 1), its highest equivalent value, clamped to [min, maxRecorded].
    static func percentiles(_ h: Histogram<UInt64>, _ ascending: [Double]) -> [UInt64] {
        var out = [UInt64](repeating: 0, count: ascending.count)
        guard h.totalCount > 0, !ascending.isEmpty else { return out }
        let total = h.totalCount
        let targets = ascending.map { q -> UInt64 in
            let requested = Swift.min(Swift.max(q.nextDown, 0.0), 100.0)
            return Swift.max(1, UInt64(((requested * Double(total)) / 100.0).rounded(.up)))
        }
        let lo = h.min, hi = h.maxRecorded
        var k = 0
        for step in h.recordedValues() {
            while k < targets.count, step.totalCountToThisValue >= targets[k] {
                out[k] = Swift.max(Swift.min(step.value, hi), lo)
                k += 1
            }
            if k == targets.count { break }
        }
        return out
    }
}

/// Percentiles of recorded latencies.
public struct LatencySummary: Sendable, Equatable {
    public var count: UInt64 = 0
    public var minNanoseconds: UInt64 = 0
    public var p50Nanoseconds: UInt64 = 0
    public var p90Nanoseconds: UInt64 = 0
    public var p99Nanoseconds: UInt64 = 0
    public var p999Nanoseconds: UInt64 = 0
    public var maxNanoseconds: UInt64 = 0
    public var meanNanoseconds: Double = 0

    public init() {}
    public init(count: UInt64, minNanoseconds: UInt64, p50Nanoseconds: UInt64, p90Nanoseconds: UInt64, p99Nanoseconds: UInt64,
                p999Nanoseconds: UInt64, maxNanoseconds: UInt64, meanNanoseconds: Double) {
        self.count = count; self.minNanoseconds = minNanoseconds; self.p50Nanoseconds = p50Nanoseconds
        self.p90Nanoseconds = p90Nanoseconds; self.p99Nanoseconds = p99Nanoseconds; self.p999Nanoseconds = p999Nanoseconds
        self.maxNanoseconds = maxNanoseconds; self.meanNanoseconds = meanNanoseconds
    }

    /// (label, nanoseconds) in print order.
    public var fields: [(String, Double)] {
        [("min", Double(minNanoseconds)), ("p50", Double(p50Nanoseconds)), ("p90", Double(p90Nanoseconds)),
         ("p99", Double(p99Nanoseconds)), ("p99.9", Double(p999Nanoseconds)), ("max", Double(maxNanoseconds)),
         ("mean", meanNanoseconds)]
    }

    /// "latency ms  min 0.120  p50 0.300  p90 ...  mean 0.310"
    public var text: String {
        "latency ms  " + fields.map { "\($0.0) \(StatsFormat.ms($0.1))" }.joined(separator: "  ")
    }

    /// {"count":N,"min":ms,"p50":ms,...,"mean":ms} (milliseconds, 3 decimals)
    public var json: JSONValue {
        var o: JSONObject = ["count": .integer(Int64(count))]
        for (k, v) in fields { o.append(k, .number(StatsFormat.round3(v / 1e6))) }
        return .object(o)
    }
}

/// A benchmark's figures: counters, rates and latency, with a text and a JSON rendering.
public struct BenchReport: Sendable, Equatable {
    public var name: String
    public var elapsedNanoseconds: UInt64
    public var counters: [(String, Int64)]
    public var rates: [(String, Double)]
    public var latency: LatencySummary?

    public init(name: String, elapsedNanoseconds: UInt64, counters: [(String, Int64)], rates: [(String, Double)],
                latency: LatencySummary?) {
        self.name = name; self.elapsedNanoseconds = elapsedNanoseconds; self.counters = counters; self.rates = rates
        self.latency = latency
    }

    public static func == (a: BenchReport, b: BenchReport) -> Bool {
        a.name == b.name && a.elapsedNanoseconds == b.elapsedNanoseconds && a.latency == b.latency
            && a.counters.elementsEqual(b.counters, by: { $0 == $1 }) && a.rates.elementsEqual(b.rates, by: { $0 == $1 })
    }

    public func counter(_ name: String) -> Int64? { counters.first { $0.0 == name }?.1 }
    public func rate(_ name: String) -> Double? { rates.first { $0.0 == name }?.1 }

    /// Three lines: counters; elapsed and rates; latency.
    public var text: String {
        var lines = [counters.map { "\($0.0) \($0.1)" }.joined(separator: "  ")]
        lines.append((["elapsed \(StatsFormat.fixed(Double(elapsedNanoseconds) / 1e9, 3)) s"]
            + rates.map { "\($0.0) \(StatsFormat.fixed($0.1, 1))" }).joined(separator: "  "))
        if let l = latency, l.count > 0 { lines.append(l.text) }
        return lines.joined(separator: "\n")
    }

    /// {"bench":NAME, counters..., "elapsed_s":S, rates (keys with "/" → "_per_")..., "latency_ms":{...}}
    public var json: JSONValue {
        var o: JSONObject = ["bench": .string(name)]
        for (k, v) in counters { o.append(k, .integer(v)) }
        o.append("elapsed_s", .number(StatsFormat.round3(Double(elapsedNanoseconds) / 1e9)))
        for (k, v) in rates { o.append(k.replacingOccurrences(of: "/", with: "_per_"), .number(StatsFormat.round3(v))) }
        if let l = latency { o.append("latency_ms", l.json) }
        return .object(o)
    }
}

public enum StatsFormat {
    public static func round3(_ x: Double) -> Double { (x * 1000).rounded() / 1000 }
    /// Nanoseconds as milliseconds with 3 decimals.
    public static func ms(_ ns: Double) -> String { fixed(ns / 1e6, 3) }
    /// Fixed decimals without Foundation's String(format:).
    public static func fixed(_ x: Double, _ decimals: Int) -> String {
        guard x.isFinite else { return "\(x)" }
        var p: Double = 1
        for _ in 0..<decimals { p *= 10 }
        let neg = x < 0
        let scaled = (abs(x) * p).rounded()
        guard scaled < 9e18 else { return "\(x)" }
        let n = UInt64(scaled)
        let ip = n / UInt64(p)
        var s = (neg && n > 0 ? "-" : "") + String(ip)
        if decimals > 0 {
            let fp = String(n % UInt64(p))
            s += "." + String(repeating: "0", count: decimals - fp.count) + fp
        }
        return s
    }
}
