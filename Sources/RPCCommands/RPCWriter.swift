// Coalesced output on the event loop: frames appended during one event-loop pass (e.g. the replies and ACKs
// for a burst of requests read at once) go out in one write, through StompClient.sendEncodedNow (which keeps the
// session's bookkeeping: ACKs settle their pending messages). Fewer writes here means fewer reads and
// wake-ups in the broker, which is what limits RPC throughput. Frames appended while a read's frames are
// delivered go out at that read's end (the client's read-end observer); others at the end of the pass (a task).
import NIOCore
import StompProto
import StompConnection

final class RPCWriter {
    let client: StompClient
    private var encoder: FrameEncoder
    private var buffer: [UInt8] = []
    private var frames: [StompFrame] = []
    /// SENDs queued by `appendPlainSend` since the last flush.
    private var plainSends = 0
    /// Called (on the event loop) when a flush found no connection to write to (lost, reconnecting, closed):
    /// what was queued is dropped. A write that fails later closes the link: the client's link-lost observers
    /// hear of that (no promise per write here).
    var onNotConnected: (() -> Void)?
    private var scheduled = false
    /// The flush waits for the end of the read being delivered (no task scheduled).
    private var flushAtReadEnd = false
    private var passVersion: StompVersion = .v1_2
    private var readEndToken: InterceptorToken?

    /// Must be created on the client's event loop; `close()` when done.
    init(client: StompClient) {
        self.client = client
        self.encoder = FrameEncoder(version: client.connectedInfo.version, contentLength: client.options.contentLength)
        readEndToken = client.addReadEndObserver { [weak self] in
            guard let self, self.flushAtReadEnd else { return }
            self.flush()
        }
    }

    /// Writes what is queued and stops listening for read ends. On the event loop.
    func close() {
        flush()
        if let t = readEndToken { client.removeReadEndObserver(t); readEndToken = nil }
    }

    /// Queues a frame for the end of this event-loop pass.
    @inline(__always)
    func append(_ frame: StompFrame) throws {
        client.eventLoop.preconditionInEventLoop()
        encoder.version = version
        try encoder.encode(frame, into: &buffer)
        frames.append(frame)
    }

    /// Queues `frame`, a SEND without a receipt header (a reply): encoded now; the session, which has nothing to
    /// track for it, is not shown it.
    func appendSend(_ frame: StompFrame) throws {
        client.eventLoop.preconditionInEventLoop()
        encoder.version = version
        try encoder.encode(frame, into: &buffer)
        plainSends += 1
    }

    /// Queues a SEND without a receipt header written by `write` straight into this pass's bytes (a prepared
    /// request: no `StompFrame` made; the session has nothing to track for it).
    func appendPlainSend(_ write: (inout [UInt8]) -> Void) {
        client.eventLoop.preconditionInEventLoop()
        _ = version   // schedules this pass's flush
        write(&buffer)
        plainSends += 1
    }

    /// The encoder of this pass (the connection's version and content-length policy).
    var passEncoder: FrameEncoder {
        var e = encoder
        e.version = version
        return e
    }

    /// The connection's STOMP version, read once per event-loop pass (it changes only with a new connection,
    /// between passes); reading it schedules this pass's flush.
    var version: StompVersion {
        client.eventLoop.preconditionInEventLoop()
        if !scheduled {
            scheduled = true
            passVersion = client.connectedVersion
            if client.deliveringRead, readEndToken != nil {
                flushAtReadEnd = true
            } else {
                client.eventLoop.execute { [self] in flush() }
            }
        }
        return passVersion
    }

    /// Writes what was queued now (before a frame that must follow it, e.g. UNSUBSCRIBE after the last ACKs).
    func flush() {
        scheduled = false
        flushAtReadEnd = false
        guard !buffer.isEmpty else { return }
        // taken out first: what is appended during the write (a failed write's link loss fails calls whose
        // completions issue new ones) goes into the next batch
        var bytes: [UInt8] = []
        swap(&bytes, &buffer)
        var batch: [StompFrame] = []
        if !frames.isEmpty { swap(&batch, &frames) }
        let plain = plainSends
        plainSends = 0
        do {
            try client.sendEncodedNow(bytes, frames: batch, plainSends: plain)
        } catch {
            onNotConnected?()
        }
        // the write copied the bytes (and the session looked at the frames): the next pass reuses their storage
        // when nothing was queued meanwhile (fresh storage if anything still holds it; none kept over 64 KiB)
        if buffer.isEmpty, bytes.capacity <= 64 * 1024 {
            bytes.removeAll(keepingCapacity: true)
            swap(&bytes, &buffer)
        }
        if frames.isEmpty, !batch.isEmpty {
            batch.removeAll(keepingCapacity: true)
            swap(&batch, &frames)
        }
    }
}
