import NIOCore
import StompProto

/// The broker closed the socket; sent inbound (as a user event) just before `channelInactive`.
public struct StompPeerClosedEvent: Sendable, Equatable {
    /// True if the stream ended inside a frame.
    public var midFrame: Bool
    /// Bytes of the unfinished frame.
    public var pendingBytes: Int
}

/// Who takes a `StompFrameDecoderHandler`'s events (its owner, the client). Held weakly by the handler and
/// loaded once per read, not once per event.
public protocol StompFrameDecoderSink: AnyObject {
    /// One decoded event of `handler`, in order.
    func decoded(_ event: FrameDecoderEvent, by handler: StompFrameDecoderHandler)
    /// The events of the reads of one event-loop pass were delivered (at `channelReadComplete`, or when the
    /// channel goes inactive first): writes queued meanwhile can go out in one flush.
    func readDone(by handler: StompFrameDecoderHandler)
}

/// Inbound: bytes → `FrameDecoderEvent` (frames and heart-beats), wrapping `StompProto.FrameDecoder`. The events
/// go straight to `sink` (its owner, the client), not down the pipeline: no boxing per event.
///
/// A decoding error is fired as `StompConnectionError.protocolViolation` and closes the channel.
/// A peer that stops sending in the middle of a frame for `stallTimeout` is fired as
/// `StompConnectionError.stalledMidFrame` and closed (silence between frames is the heart-beats' business).
/// When `trace` is set, it is called with the exact wire bytes of every frame and heart-beat.
public final class StompFrameDecoderHandler: ChannelInboundHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer

    public var decoder: FrameDecoder
    public var trace: (([UInt8]) -> Void)?
    /// Receives every decoded event, in order (none while nil). Errors, closes and user events travel the pipeline.
    public weak var sink: StompFrameDecoderSink?
    /// Bytes received, for counters.
    public private(set) var bytesReceived: Int = 0
    private var failed = false
    private var closedReported = false
    // Trace: bytes not yet emitted, starting at stream offset `traceBase`.
    private var traceBytes: [UInt8] = []
    private var traceBase = 0
    /// How long the peer may send nothing while a frame is unfinished; nil: no limit.
    public let stallTimeout: TimeAmount?
    private var lastReadAt = NIODeadline.now()
    /// At most one check pending; it re-arms itself while a frame stays unfinished.
    private var stallCheck: Scheduled<Void>?
    /// Stream offset where the unfinished frame starts (the end of the last event).
    private var frameStartOffset = 0
    /// Set while the owner stopped reading from the socket (back-pressure): a frame left unfinished then is
    /// not the peer's stall. Clearing it restarts the stall clock.
    public var readingPaused = false {
        didSet { if !readingPaused { lastReadAt = .now() } }
    }

    public init(version: StompVersion = .v1_0, limits: StompLimits = .default, stallTimeout: TimeAmount? = nil) {
        self.decoder = FrameDecoder(version: version, limits: limits)
        self.stallTimeout = stallTimeout
    }

    /// Escaping rules change with the negotiated version (CONNECTED itself is never escaped).
    public var version: StompVersion {
        get { decoder.version }
        set { decoder.version = newValue }
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !failed else { return }
        let buffer = unwrapInboundIn(data)
        bytesReceived += buffer.readableBytes
        buffer.withUnsafeReadableBytes { decoder.append($0) }
        if trace != nil { traceBytes.append(contentsOf: buffer.readableBytesView) }
        decodeLoop(context: context)
        if let stallTimeout, !failed, !decoder.isAtFrameBoundary {
            lastReadAt = .now()
            if stallCheck == nil { armStallCheck(context: context, at: lastReadAt + stallTimeout) }
        }
    }

    private func armStallCheck(context: ChannelHandlerContext, at deadline: NIODeadline) {
        stallCheck = context.eventLoop.scheduleTask(deadline: deadline) { [self] in
            stallCheck = nil
            guard let stallTimeout, !failed, !closedReported, !decoder.isAtFrameBoundary else { return }
            let quiet = NIODeadline.now() - lastReadAt
            guard quiet >= stallTimeout, !readingPaused else {
                armStallCheck(context: context, at: lastReadAt + stallTimeout)
                return
            }
            failed = true
            emitTrace(upTo: nil)
            context.fireErrorCaught(StompConnectionError.stalledMidFrame(
                seconds: Double(stallTimeout.nanoseconds) / 1e9, pendingBytes: bytesReceived - frameStartOffset))
            context.close(promise: nil)
        }
    }

    private func decodeLoop(context: ChannelHandlerContext) {
        let sink = self.sink   // one load for all the events of this read
        while !failed {
            let event: FrameDecoderEvent?
            do {
                event = try decoder.next()
            } catch let error as FrameDecodingError {
                failed = true
                emitTrace(upTo: nil)
                context.fireErrorCaught(StompConnectionError.protocolViolation(error))
                context.close(promise: nil)
                return
            } catch {
                failed = true
                context.fireErrorCaught(error)
                context.close(promise: nil)
                return
            }
            guard let event else { return }
            frameStartOffset = decoder.streamOffset
            if trace != nil { emitTrace(upTo: frameStartOffset) }
            // The owner may change `version` during this call (after CONNECTED):
            // the next `next()` then decodes with the new rules.
            sink?.decoded(event, by: self)
        }
    }

    private func emitTrace(upTo offset: Int?) {
        guard let trace, !traceBytes.isEmpty else { return }
        let n = min(traceBytes.count, (offset ?? (traceBase + traceBytes.count)) - traceBase)
        guard n > 0 else { return }
        let chunk = Array(traceBytes[0..<n])
        traceBytes.removeFirst(n)
        traceBase += n
        trace(chunk)
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        sink?.readDone(by: self)
        context.fireChannelReadComplete()
    }

    public func channelInactive(context: ChannelHandlerContext) {
        sink?.readDone(by: self)
        stallCheck?.cancel()
        stallCheck = nil
        reportClosed(context: context)
        context.fireChannelInactive()
    }

    private func reportClosed(context: ChannelHandlerContext) {
        guard !closedReported else { return }
        closedReported = true
        let pending = decoder.bufferedByteCount
        let mid = !failed && !decoder.isAtFrameBoundary
        if mid { emitTrace(upTo: nil) }
        context.fireUserInboundEventTriggered(StompPeerClosedEvent(midFrame: mid, pendingBytes: pending))
    }
}

/// What the client writes into the pipeline.
public enum StompOutbound {
    case frame(StompFrame)
    /// One EOL.
    case heartbeat
    /// Sent as is (the caller includes the NUL).
    case raw([UInt8])
    /// Already-encoded frame(s), sent as is (bulk publish writes one template many times).
    case encoded(ByteBuffer, frames: Int)
    /// Several encoded frames back to back (`StompClient.send(batch:)`); `frameEnds`: the offset in the buffer
    /// where each one ends, for the trace (one event per frame) and WebSocket (one message per frame).
    case batch(ByteBuffer, frameEnds: [Int])
}

/// Outbound: `StompOutbound` → bytes, wrapping `StompProto.FrameEncoder`.
/// An encoding error fails the write's promise with `StompConnectionError.encoding`; nothing is written.
///
/// In a pipeline it is an outbound handler like any. The client keeps it OUT of the pipeline and `attach`es it
/// to the context of its last (inbound) handler: its `write`/`writeAndFlush` send their bytes from there (the
/// same outbound handlers below see them), and the outbound events NIO sends down the pipeline (a `read` after
/// every read, flushes) pass no STOMP handler (about 300 instructions a round trip, callgrind).
public final class StompFrameEncoderHandler: ChannelOutboundHandler, RemovableChannelHandler {
    public typealias OutboundIn = StompOutbound
    public typealias OutboundOut = ByteBuffer

    public var encoder: FrameEncoder
    public var trace: (([UInt8]) -> Void)?
    public private(set) var bytesSent: Int = 0
    public private(set) var framesSent: Int = 0
    public private(set) var heartbeatsSent: Int = 0
    /// `.encoded` batches of N identical frames go down as N buffers, one per frame (a WebSocket link sends each
    /// STOMP frame as one message).
    public var writesOneFramePerBuffer = false
    private var scratch: [UInt8] = []
    /// The buffer of the last `.frame`/`.raw` write, reused by the next (`reusedBuffer`).
    private var kept: ByteBuffer?
    /// One heart-beat's byte, shared by every beat.
    private var heartbeatBuffer: ByteBuffer?

    public init(version: StompVersion = .v1_0, contentLength: ContentLengthPolicy = .whenNeeded,
                writeStallTimeout: TimeAmount? = nil) {
        self.encoder = FrameEncoder(version: version, contentLength: contentLength)
        self.writeStallTimeout = writeStallTimeout
        scratch.reserveCapacity(4096)
    }

    // MARK: Write stall: a peer that takes none of our bytes for `writeStallTimeout` while some wait

    /// How long the peer may take none of the bytes waiting in the channel's outbound buffer before the write
    /// is given up: fired as `StompConnectionError.writeStalled` and closed (every write waiting fails with
    /// the close). nil: no limit. Judged from the channel's buffered bytes and the socket's acknowledged bytes
    /// (`bytesAcked`): no promise or timer per write, one check every fifth of the timeout while bytes wait.
    public let writeStallTimeout: TimeAmount?
    /// Set while the owner stopped reading (back-pressure): a peer blocked writing to us may stop reading
    /// from us; that is not its stall. Clearing it restarts the clock.
    public var readingPaused = false {
        didSet { if !readingPaused { lastTakenAt = .now() } }
    }
    private var writeCheck: Scheduled<Void>?
    /// `bytesSent` minus the bytes buffered, when the peer last took some.
    private var takenMark = 0
    /// The socket's count of bytes the peer's TCP acknowledged, when it last grew (Linux; 0 where unknown).
    private var ackedMark: UInt64 = 0
    private var lastTakenAt = NIODeadline.now()
    private var writeStalled = false

    private static func buffered(_ context: ChannelHandlerContext) -> Int {
        (try? context.channel.syncOptions?.getOption(ChannelOptions.bufferedWritableBytes)) ?? 0
    }

    /// The prefix of Linux's `struct tcp_info` up to `tcpi_bytes_acked` (offset 120, Linux 4.1+; glibc's struct
    /// stops before it), read with getsockopt(TCP_INFO): zero where the kernel gives less.
    private struct TCPInfoPrefix: Sendable {
        var words: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                    UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    }

    /// Bytes the peer's TCP acknowledged so far (0: unknown). The kernel's send buffer hides a slow reader from
    /// the channel's buffered bytes (the socket turns writable again only once a third of it drained: over a
    /// 1 Mbit/s link more than 10 s); its acknowledgements do not: a peer that reads, however slowly, opens
    /// its window and acknowledges, a peer that does not read acknowledges nothing new.
    private static func bytesAcked(_ context: ChannelHandlerContext) -> UInt64 {
        #if os(Linux)
        guard let socket = context.channel as? SocketOptionProvider else { return 0 }
        var acked: UInt64 = 0
        // On the event loop the option is read at once and the callback runs inline.
        socket.unsafeGetSocketOption(level: .tcp, name: .tcp_info).whenSuccess { (info: TCPInfoPrefix) in
            acked = info.words.15
        }
        return acked
        #else
        return 0
        #endif
    }

    /// Before a write's bytes are counted: the clock starts now unless it already runs.
    private func armWriteCheck(context: ChannelHandlerContext, timeout: TimeAmount) {
        takenMark = bytesSent - Self.buffered(context)
        ackedMark = Self.bytesAcked(context)
        lastTakenAt = .now()
        scheduleWriteCheck(context: context, at: lastTakenAt + Self.checkSlice(timeout), timeout: timeout)
    }

    private static func checkSlice(_ timeout: TimeAmount) -> TimeAmount {
        .nanoseconds(max(timeout.nanoseconds / 5, 10_000_000))
    }

    private func scheduleWriteCheck(context: ChannelHandlerContext, at deadline: NIODeadline, timeout: TimeAmount) {
        writeCheck = context.eventLoop.scheduleTask(deadline: deadline) { [self] in
            writeCheck = nil
            guard !writeStalled, context.channel.isActive else { return }
            let pending = Self.buffered(context)
            guard pending > 0 else { return }   // all taken: the next write starts the clock again
            let now = NIODeadline.now()
            let taken = bytesSent - pending
            let acked = Self.bytesAcked(context)
            if taken > takenMark || acked > ackedMark || readingPaused {
                takenMark = max(takenMark, taken)
                ackedMark = max(ackedMark, acked)
                lastTakenAt = now
            } else if now - lastTakenAt >= timeout {
                writeStalled = true
                // From the pipeline's head: this handler may write through another handler's context
                // (attached), whose own errorCaught a fire from that context would skip.
                context.pipeline.fireErrorCaught(StompConnectionError.writeStalled(
                    seconds: Double(timeout.nanoseconds) / 1e9, pendingBytes: pending))
                context.close(promise: nil)
                return
            }
            scheduleWriteCheck(context: context, at: min(now + Self.checkSlice(timeout), lastTakenAt + timeout),
                               timeout: timeout)
        }
    }

    public var version: StompVersion {
        get { encoder.version }
        set { encoder.version = newValue }
    }

    /// This handler's context while it is in a pipeline: the client writes through it (`writeAndFlush(_:promise:)`)
    /// without boxing its `StompOutbound` in an `NIOAny` for the trip from the pipeline's tail.
    public private(set) var context: ChannelHandlerContext?

    public func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    public func handlerRemoved(context: ChannelHandlerContext) { detach(context) }

    /// Writes through `context` from now on (this handler not in the pipeline): the context of a handler at
    /// the pipeline's end, so every outbound handler sees the bytes as if they came from the tail.
    public func attach(_ context: ChannelHandlerContext) { self.context = context }

    /// Stops writing through `context` (its handler was removed); another context attached since is kept.
    /// The write stall check ends with it.
    public func detach(_ context: ChannelHandlerContext) {
        guard self.context === context else { return }
        self.context = nil
        writeCheck?.cancel()
        writeCheck = nil
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        write(context: context, out: unwrapOutboundIn(data), promise: promise, flush: false)
    }

    /// What `channel.writeAndFlush(out)` does when nothing but inbound handlers sit between this handler's
    /// context (its own, or the one it is attached to) and the pipeline's tail: encode `out`, write it on, flush.
    /// On the event loop only; false (nothing done, the promise untouched) when it has no context (not in a
    /// pipeline, not attached, or its handler removed).
    public func writeAndFlush(_ out: StompOutbound, promise: EventLoopPromise<Void>?) -> Bool {
        guard let context else { return false }
        write(context: context, out: out, promise: promise, flush: true)
        return true
    }

    /// `writeAndFlush(_:promise:)` without the flush.
    public func write(_ out: StompOutbound, promise: EventLoopPromise<Void>?) -> Bool {
        guard let context else { return false }
        write(context: context, out: out, promise: promise, flush: false)
        return true
    }

    /// `flush`: the last (or only) buffer goes down with `writeAndFlush`, one walk to the head instead of two.
    private func write(context: ChannelHandlerContext, out: StompOutbound, promise: EventLoopPromise<Void>?, flush: Bool) {
        if writeCheck == nil, let timeout = writeStallTimeout { armWriteCheck(context: context, timeout: timeout) }
        // The client's common write (one frame it encoded), untraced on a TCP/TLS link: counted and sent on.
        if trace == nil, !writesOneFramePerBuffer, case .encoded(let b, let frames) = out {
            framesSent += frames
            bytesSent += b.readableBytes
            send(b, context: context, promise: promise, flush: flush)
            return
        }
        var buffer: ByteBuffer
        switch out {
        case .frame(let frame):
            scratch.removeAll(keepingCapacity: true)
            do {
                try encoder.encode(frame, into: &scratch)
            } catch let e as FrameEncodingError {
                promise?.fail(StompConnectionError.encoding(e))
                if flush { context.flush() }
                return
            } catch {
                promise?.fail(error)
                if flush { context.flush() }
                return
            }
            buffer = reusedBuffer(scratch, context: context)
            framesSent += 1
            if let trace { trace(scratch) }
        case .heartbeat:
            if heartbeatBuffer == nil {
                var b = context.channel.allocator.buffer(capacity: 1)
                b.writeBytes(FrameEncoder.heartbeat)
                heartbeatBuffer = b
            }
            buffer = heartbeatBuffer!   // never written to again: every beat shares its bytes
            heartbeatsSent += 1
            if let trace { trace(FrameEncoder.heartbeat) }
        case .encoded(let b, let frames):
            buffer = b
            framesSent += frames
            if let trace {
                // `frames` identical frames back to back: one trace event each.
                let all = Array(b.readableBytesView)
                let size = frames > 0 && all.count % frames == 0 ? all.count / frames : all.count
                var i = 0
                while i < all.count {
                    trace(Array(all[i..<min(i + size, all.count)]))
                    i += size
                }
            }
        case .batch(let b, let ends):
            framesSent += ends.count
            bytesSent += b.readableBytes
            if trace == nil, !writesOneFramePerBuffer || ends.count < 2 {
                send(b, context: context, promise: promise, flush: flush)
                return
            }
            var start = 0
            for (i, end) in ends.enumerated() {
                let slice = b.getSlice(at: b.readerIndex + start, length: end - start)!
                if let trace { trace(Array(slice.readableBytesView)) }
                if writesOneFramePerBuffer {
                    context.write(wrapOutboundOut(slice), promise: i == ends.count - 1 ? promise : nil)
                }
                start = end
            }
            if !writesOneFramePerBuffer {
                send(b, context: context, promise: promise, flush: flush)
            } else if flush {
                context.flush()
            }
            return
        case .raw(let bytes):
            buffer = reusedBuffer(bytes, context: context)
            framesSent += 1
            if let trace { for chunk in Self.frameChunks(bytes) { trace(chunk) } }
        }
        bytesSent += buffer.readableBytes
        if writesOneFramePerBuffer, case .encoded(_, let frames) = out, frames > 1, buffer.readableBytes % frames == 0 {
            let size = buffer.readableBytes / frames
            for i in 0..<frames {
                let slice = buffer.getSlice(at: buffer.readerIndex + i * size, length: size)!
                context.write(wrapOutboundOut(slice), promise: i == frames - 1 ? promise : nil)
            }
            if flush { context.flush() }
            return
        }
        send(buffer, context: context, promise: promise, flush: flush)
    }

    @inline(__always)
    private func send(_ buffer: ByteBuffer, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?, flush: Bool) {
        if flush {
            context.writeAndFlush(wrapOutboundOut(buffer), promise: promise)
        } else {
            context.write(wrapOutboundOut(buffer), promise: promise)
        }
    }

    /// `bytes` in the kept outbound buffer: taken out and cleared, it is reused once NIO has written the last
    /// write and let go of it (unique again); while that write is pending, `clear` gives fresh storage (copy
    /// on write), so a queued write is never overwritten. One grown past 1 MiB is not kept.
    private func reusedBuffer(_ bytes: [UInt8], context: ChannelHandlerContext) -> ByteBuffer {
        var buffer = kept.take() ?? context.channel.allocator.buffer(capacity: max(bytes.count, 256))
        buffer.clear(minimumCapacity: bytes.count)
        buffer.writeBytes(bytes)
        if buffer.capacity <= 1 << 20 { kept = buffer }
        return buffer
    }

    /// `bytes` cut where each frame (or heart-beat) ends, for the trace: one write of several frames is
    /// traced as several frames. What does not decode is one last piece.
    static func frameChunks(_ bytes: [UInt8]) -> [[UInt8]] {
        var decoder = FrameDecoder(version: .v1_0)
        decoder.append(bytes)
        var chunks: [[UInt8]] = []
        var start = 0
        while start < bytes.count, let event = try? decoder.next() {
            let end = min(decoder.streamOffset, bytes.count)
            guard end > start else { break }
            // EOLs after a frame's NUL stay with that frame (not a heart-beat line of their own).
            if event == .heartbeat, !chunks.isEmpty {
                chunks[chunks.count - 1] += bytes[start..<end]
            } else {
                chunks.append(Array(bytes[start..<end]))
            }
            start = end
        }
        if start < bytes.count { chunks.append(Array(bytes[start...])) }
        return chunks
    }
}
