import CCurl
import Glibc

/// One HTTP request as the gateway client describes it to the transport.
public struct HTTPRequest: Sendable {
    public enum Method: Sendable { case get, post }
    public var url: String
    public var method: Method
    public var body: [UInt8]
    /// Extra header lines, `Name: value`.
    public var headers: [String]
    /// Overall time limit in milliseconds; 0 means none (streams).
    public var timeoutMilliseconds: Int
    /// Give up when no body byte has arrived for this long, in milliseconds; 0 means never. Detects a
    /// silently dead stream (checked about once a second).
    public var idleTimeoutMilliseconds: Int
    /// libcurl's receive buffer in bytes (0: its default, 16 KiB). A long stream read in larger pieces wakes the
    /// process less often (snapshot save: hundreds of megabytes).
    public var receiveBufferBytes = 0

    public init(url: String, method: Method = .post, body: [UInt8] = [], headers: [String] = [],
                timeoutMilliseconds: Int = 0, idleTimeoutMilliseconds: Int = 0) {
        self.url = url
        self.method = method
        self.body = body
        self.headers = headers
        self.timeoutMilliseconds = timeoutMilliseconds
        self.idleTimeoutMilliseconds = idleTimeoutMilliseconds
    }
}

/// Connection settings shared by every request of one invocation.
public struct TransportOptions: Sendable {
    public var connectTimeoutMilliseconds: Int = 2000
    public var caFile: String?
    public var certFile: String?
    public var keyFile: String?
    public var insecureSkipVerify = false
    /// Put before the TLS flags that failure messages name: "dest-" for make-mirror's destination, whose flags
    /// are --dest-cacert, --dest-cert and --dest-key.
    public var tlsFlagPrefix = ""
    public init() {}
}

/// The status and timing of a completed exchange.
public struct HTTPResult: Sendable {
    public var status: Int
    public var totalMicroseconds: Int64
}

/// A failure below HTTP: the request did not complete as an exchange.
///
/// `mayHaveReachedServer` is false only when no connection was ever made, which makes a retry on another
/// endpoint safe even for writes.
public struct TransportError: Error, Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// No connection could be made (refused, unreachable, name not resolved, connect timeout).
        case connect
        /// TLS handshake or certificate verification failed.
        case tls
        /// The overall time limit ran out after the connection was made.
        case timeout
        /// The server closed the connection without sending any reply.
        case emptyReply
        /// The connection broke while sending or receiving.
        case broken
        /// The caller's callback asked to stop (interrupt, enough events).
        case aborted
        /// No byte arrived within the request's idle limit.
        case idle
        /// Anything else curl reports.
        case other
    }
    public var kind: Kind
    public var url: String
    public var detail: String
    public var curlCode: Int
    public var mayHaveReachedServer: Bool
    /// The HTTP status of the reply, when one had begun (0 if none): a stream that ended in an error status
    /// while its request body was still open ends this way, not as a completed exchange.
    public var httpStatus = 0
}

extension TransportError {
    /// What a TLS failure means for the user, from OpenSSL's and curl's texts; nil when it is not one. The flags
    /// it names get `flagPrefix` after their dashes (`--dest-cert` for "dest-").
    public static func explainTLS(_ detail: String, flagPrefix: String = "") -> String? {
        let d = detail.lowercased()
        let cacert = "--\(flagPrefix)cacert", cert = "--\(flagPrefix)cert", key = "--\(flagPrefix)key"
        let untrusted = "the server's certificate is not signed by a CA etch trusts (give its CA with \(cacert))"
        let mismatch = "the server's certificate does not name this host (name mismatch: connect by a name or IP the certificate lists)"
        let notTLS = "the endpoint does not speak TLS (use http://)"
        let table: [(String, String)] = [
            ("unable to get local issuer certificate", untrusted),
            ("self-signed certificate", untrusted),
            ("self signed certificate", untrusted),
            ("unable to verify the first certificate", untrusted),
            ("certificate subject name", mismatch),
            ("does not match target host name", mismatch),
            ("certificate has expired", "the server's certificate has expired"),
            ("certificate is not yet valid", "the server's certificate is not valid yet"),
            ("alert certificate required", "the server requires a client certificate (give \(cert) and \(key))"),
            ("alert bad certificate", "the server rejected the client certificate, or requires one (give \(cert) and \(key) signed by a CA it trusts)"),
            ("alert unknown ca", "the server does not trust the CA of the client certificate"),
            ("alert certificate expired", "the server rejected the client certificate as expired"),
            ("unable to set private key file", "cannot use the client key (\(key))"),
            ("could not load pem client certificate", "cannot use the client certificate (\(cert))"),
            ("unable to use client certificate", "cannot use the client certificate (\(cert))"),
            ("key values mismatch", "the client key (\(key)) does not belong to the certificate (\(cert))"),
            ("error setting certificate file", "cannot read the CA file (\(cacert))"),
            ("wrong version number", notTLS),
            ("packet length too long", notTLS),
        ]
        for (needle, why) in table where d.contains(needle) { return "TLS: " + why }
        return nil
    }
}

/// Set from the SIGINT handler; checked by libcurl's progress callback so a stream ends promptly.
nonisolated(unsafe) private var interruptFlag: sig_atomic_t = 0

/// Ctrl-C handling: the first SIGINT asks the running transfer to stop; the caller then exits cleanly.
public enum Interrupt {
    /// Installs the SIGINT/SIGTERM handler that only records the request.
    public static func install() {
        signal(SIGINT) { sig in interruptFlag = sig }
        signal(SIGTERM) { sig in interruptFlag = sig }
    }

    /// The signal that asked etch to stop (SIGINT or SIGTERM; 0 before one came), for passing it on to a child.
    public static var signalNumber: Int32 { Int32(interruptFlag) }

    /// Whether an interrupt was requested.
    public static var requested: Bool { interruptFlag != 0 }

    /// Ends the process the way the signal would have, so the shell sees the usual status.
    public static func exitBySignal() -> Never {
        signal(SIGINT, SIG_DFL)
        raise(SIGINT)
        _exit(130)
    }
}

/// The sink the current transfer delivers body bytes to; returning false stops the transfer.
public typealias BodySink = (UnsafeRawBufferPointer) -> Bool

/// A libcurl easy handle reused for every request of one invocation, so the connection stays alive.
///
/// The write callback captures nothing: it finds this object through curl's user-data pointer.
public final class HTTPTransport {
    private let handle: UnsafeMutableRawPointer
    public let options: TransportOptions
    private var sink: BodySink?
    private var stopRequested = false
    private var idleLimitNanoseconds: UInt64 = 0
    private var lastActivity: UInt64 = 0
    private var idleExpired = false
    private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
    /// Called with one line per request when `--debug` is on.
    public var debugLog: ((String) -> Void)?
    /// Whether SIGINT/SIGTERM stops this transport's transfers (the default). A lease kept alive on a thread of
    /// its own turns it off: the lease must outlive the interrupt until its owner has cleaned up (a lock is
    /// released only after the command it protects has ended).
    public var abortsOnInterrupt = true

    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    public init(options: TransportOptions) {
        _ = HTTPTransport.globalInit
        guard let h = curl_easy_init() else { fatalError("curl_easy_init failed") }
        handle = h
        self.options = options
    }

    deinit {
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
    }

    /// Milliseconds since the current transfer last received a byte (or started).
    public var millisecondsSinceLastByte: Int {
        Int((monotonicNanoseconds() &- lastActivity) / 1_000_000)
    }

    /// Changes the idle limit of the transfer under way (from inside its sink), in milliseconds; 0 turns it off.
    public func setIdleLimit(milliseconds: Int) {
        idleLimitNanoseconds = UInt64(milliseconds) * 1_000_000
        lastActivity = monotonicNanoseconds()
    }

    /// Starts a transfer the same way for `perform` and `performDuplex`: fresh transfer state, the options
    /// every request shares (URL, no proxy, no signals, timeouts, TLS files) and the one write callback.
    private func configureConnection(_ request: HTTPRequest) {
        let h = handle
        stopRequested = false
        idleExpired = false
        receivedAny = false
        idleLimitNanoseconds = UInt64(request.idleTimeoutMilliseconds) * 1_000_000
        lastActivity = monotonicNanoseconds()
        etch_setopt_pointer(h, ETCH_OPT_WRITEDATA, Unmanaged.passUnretained(self).toOpaque())
        etch_setopt_write_function(h) { ptr, size, count, user in
            let transport = Unmanaged<HTTPTransport>.fromOpaque(user!).takeUnretainedValue()
            let n = size * count
            transport.lastActivity = monotonicNanoseconds()
            transport.receivedAny = true
            if transport.abortsOnInterrupt && Interrupt.requested { transport.stopRequested = true; return 0 }
            let ok = transport.sink?(UnsafeRawBufferPointer(start: ptr, count: n)) ?? true
            // A slow consumer (a watch command) is not a silent server.
            transport.lastActivity = monotonicNanoseconds()
            if !ok { transport.stopRequested = true; return 0 }
            return n
        }
        etch_setopt_string(h, ETCH_OPT_URL, request.url)
        etch_setopt_long(h, ETCH_OPT_NOSIGNAL, 1)
        etch_setopt_long(h, ETCH_OPT_TCP_NODELAY, 1)
        etch_setopt_long(h, ETCH_OPT_HTTP_VERSION, ETCH_HTTP_VERSION_1_1)
        etch_setopt_string(h, ETCH_OPT_PROXY, "")
        etch_setopt_pointer(h, ETCH_OPT_ERRORBUFFER, errorBuffer)
        etch_setopt_long(h, ETCH_OPT_CONNECTTIMEOUT_MS, max(1, options.connectTimeoutMilliseconds))
        if let ca = options.caFile { etch_setopt_string(h, ETCH_OPT_CAINFO, ca) }
        if let cert = options.certFile { etch_setopt_string(h, ETCH_OPT_SSLCERT, cert) }
        if let key = options.keyFile { etch_setopt_string(h, ETCH_OPT_SSLKEY, key) }
        if options.insecureSkipVerify {
            etch_setopt_long(h, ETCH_OPT_SSL_VERIFYPEER, 0)
            etch_setopt_long(h, ETCH_OPT_SSL_VERIFYHOST, 0)
        }
    }

    /// Performs one exchange, handing body bytes to `sink` as they arrive.
    public func perform(_ request: HTTPRequest, sink: BodySink) throws(TransportError) -> HTTPResult {
        let h = handle
        curl_easy_reset(h)
        errorBuffer[0] = 0
        var headerList: UnsafeMutablePointer<curl_slist>? = nil
        defer { if let l = headerList { curl_slist_free_all(l) } }

        let result: CURLcode = withoutActuallyEscaping(sink) { escapingSink in
            self.sink = escapingSink
            defer { self.sink = nil }
            return request.body.withUnsafeBufferPointer { body in
                configureConnection(request)
                etch_setopt_long(h, ETCH_OPT_TIMEOUT_MS, request.timeoutMilliseconds)
                if request.receiveBufferBytes > 0 { etch_setopt_long(h, ETCH_OPT_BUFFERSIZE, request.receiveBufferBytes) }
                switch request.method {
                case .get:
                    etch_setopt_long(h, ETCH_OPT_HTTPGET, 1)
                case .post:
                    etch_setopt_long(h, ETCH_OPT_POST, 1)
                    etch_setopt_offt(h, ETCH_OPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
                    etch_setopt_pointer(h, ETCH_OPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: body.baseAddress ?? UnsafePointer(bitPattern: 1)!))
                }
                // No "Expect: 100-continue" round trip for large bodies.
                headerList = curl_slist_append(headerList, "Expect:")
                if request.method == .post {
                    headerList = curl_slist_append(headerList, "Content-Type: application/json")
                }
                for line in request.headers { headerList = curl_slist_append(headerList, line) }
                etch_setopt_slist(h, ETCH_OPT_HTTPHEADER, headerList)

                let me = Unmanaged.passUnretained(self).toOpaque()
                etch_setopt_long(h, ETCH_OPT_NOPROGRESS, 0)
                etch_setopt_pointer(h, ETCH_OPT_XFERINFODATA, me)
                etch_setopt_xferinfo_function(h) { user, _, _, _, _ in
                    let transport = Unmanaged<HTTPTransport>.fromOpaque(user!).takeUnretainedValue()
                    if transport.abortsOnInterrupt && Interrupt.requested { return 1 }
                    if transport.idleLimitNanoseconds > 0,
                       monotonicNanoseconds() - transport.lastActivity > transport.idleLimitNanoseconds {
                        transport.idleExpired = true
                        return 1
                    }
                    return 0
                }
                return curl_easy_perform(h)
            }
        }

        var status = 0
        etch_getinfo_long(h, ETCH_INFO_RESPONSE_CODE, &status)
        var total: curl_off_t = 0
        etch_getinfo_offt(h, ETCH_INFO_TOTAL_TIME_T, &total)
        if let log = debugLog {
            log("\(request.method == .get ? "GET" : "POST") \(request.url) -> \(result == CURLE_OK ? String(status) : "curl error \(result.rawValue)") in \(Double(total) / 1000)ms, \(request.body.count) bytes sent")
        }
        if result == CURLE_OK { return HTTPResult(status: status, totalMicroseconds: Int64(total)) }
        throw makeError(result, url: request.url, status: status)
    }

    /// Bytes waiting to go out on a streamed request body (duplex mode).
    private var uploadQueue: [UInt8] = []
    private var uploadPaused = false
    /// The socket of the most recent connection, as libcurl created it.
    private var connectionSocket: Int32 = -1
    private var receivedAny = false

    /// Performs one exchange whose request body is a stream fed while the response streams back: the request
    /// starts with `initialBody`, and whenever `inputFD` is readable `onInput` is called and may return more
    /// body bytes. Returning nil from `onInput` ends the transfer. Used by interactive watch, which sends
    /// several create and progress requests on one watch stream.
    public func performDuplex(_ request: HTTPRequest, initialBody: [UInt8], inputFD: Int32 = -1,
                              onInput: () -> [UInt8]? = { nil }, onTick: () -> [UInt8]? = { [] },
                              sink: BodySink) throws(TransportError) -> HTTPResult {
        let h = handle
        curl_easy_reset(h)
        errorBuffer[0] = 0
        var headerList: UnsafeMutablePointer<curl_slist>? = nil
        defer { if let l = headerList { curl_slist_free_all(l) } }
        guard let multi = curl_multi_init() else { fatalError("curl_multi_init failed") }
        defer { curl_multi_cleanup(multi) }
        uploadQueue = initialBody
        uploadPaused = false
        var finalCode = CURLE_OK
        var inputEnded = false
        withoutActuallyEscaping(sink) { escapingSink in
            self.sink = escapingSink
            defer { self.sink = nil }
            configureConnection(request)
            etch_setopt_long(h, ETCH_OPT_POST, 1)
            // etcd 3.4's Go server hands a chunked body to the gateway promptly only when the client asked for
            // "100 Continue"; without it each request waits for the next chunk (measured on 3.4.23).
            headerList = curl_slist_append(headerList, "Expect: 100-continue")
            headerList = curl_slist_append(headerList, "Transfer-Encoding: chunked")
            headerList = curl_slist_append(headerList, "Content-Type: application/json")
            for line in request.headers { headerList = curl_slist_append(headerList, line) }
            etch_setopt_slist(h, ETCH_OPT_HTTPHEADER, headerList)
            let me = Unmanaged.passUnretained(self).toOpaque()
            etch_setopt_pointer(h, ETCH_OPT_READDATA, me)
            etch_setopt_pointer(h, ETCH_OPT_SOCKOPTDATA, me)
            etch_setopt_sockopt_function(h) { user, fd, _ in
                Unmanaged<HTTPTransport>.fromOpaque(user!).takeUnretainedValue().connectionSocket = fd
                return 0
            }
            etch_setopt_read_function(h) { buffer, size, count, user in
                let transport = Unmanaged<HTTPTransport>.fromOpaque(user!).takeUnretainedValue()
                if transport.uploadQueue.isEmpty {
                    transport.uploadPaused = true
                    return ETCH_READFUNC_PAUSE
                }
                let n = min(size * count, transport.uploadQueue.count)
                transport.uploadQueue.withUnsafeBytes { src in
                    UnsafeMutableRawPointer(buffer!).copyMemory(from: src.baseAddress!, byteCount: n)
                }
                transport.uploadQueue.removeFirst(n)
                return n
            }
            curl_multi_add_handle(multi, h)
            defer { curl_multi_remove_handle(multi, h) }
            var running: Int32 = 1
            connectionSocket = -1
            while true {
                let received = receivedAny
                curl_multi_perform(multi, &running)
                var queued: Int32 = 0
                if let msg = curl_multi_info_read(multi, &queued), msg.pointee.msg == CURLMSG_DONE {
                    finalCode = msg.pointee.data.result
                    return
                }
                if stopRequested || (abortsOnInterrupt && Interrupt.requested) {
                    stopRequested = true
                    finalCode = CURLE_ABORTED_BY_CALLBACK
                    return
                }
                let watchInput = !inputEnded && inputFD >= 0
                // Also wake when the connection's socket turns readable, so a hang-up is noticed at once.
                var waits = [curl_waitfd(fd: watchInput ? inputFD : -1, events: ETCH_WAIT_POLLIN, revents: 0),
                             curl_waitfd(fd: connectionSocket, events: ETCH_WAIT_POLLIN, revents: 0)]
                let extra = waits.filter { $0.fd >= 0 }.count
                if !watchInput { waits.swapAt(0, 1) }
                curl_multi_poll(multi, &waits, UInt32(extra), 200, nil)
                let wait = waits[0]
                var more: [UInt8] = []
                if watchInput, wait.revents != 0 {
                    guard let input = onInput() else {
                        inputEnded = true
                        stopRequested = true
                        finalCode = CURLE_ABORTED_BY_CALLBACK
                        return
                    }
                    more += input
                }
                // libcurl 7.88 stops watching a socket that reached EOF mid-body while the upload is paused, and
                // the transfer hangs. Notice the hang-up here and end the transfer as broken: curl stops
                // reporting the connection's socket once it has seen the EOF, or the socket shows a hang-up
                // (0x2000 is POLLRDHUP) with nothing left to read.
                let sock = connectionSocket
                var peerGone = false
                var answered = 0
                etch_getinfo_long(h, ETCH_INFO_RESPONSE_CODE, &answered)
                if sock >= 0, received || answered != 0 {
                    var p = pollfd(fd: sock, events: Int16(POLLIN) | Int16(0x2000), revents: 0)
                    if poll(&p, 1, 0) == 1, p.revents & (Int16(0x2000) | Int16(POLLHUP) | Int16(POLLERR)) != 0,
                       p.revents & Int16(POLLIN) == 0 || peekEOF(sock) {
                        peerGone = true
                    }
                }
                if peerGone {
                    curl_multi_perform(multi, &running)
                    if let msg = curl_multi_info_read(multi, &queued), msg.pointee.msg == CURLMSG_DONE {
                        finalCode = msg.pointee.data.result
                        return
                    }
                    finalCode = CURLE_PARTIAL_FILE
                    let message = "connection closed by the server in the middle of the stream"
                    _ = message.withCString { strncpy(errorBuffer, $0, Int(CURL_ERROR_SIZE)) }
                    return
                }
                guard let tick = onTick() else {
                    idleExpired = true
                    finalCode = CURLE_ABORTED_BY_CALLBACK
                    return
                }
                more += tick
                if !more.isEmpty {
                    uploadQueue += more
                    if uploadPaused {
                        uploadPaused = false
                        curl_easy_pause(h, ETCH_PAUSE_CONT)
                    }
                }
            }
        }
        var status = 0
        etch_getinfo_long(h, ETCH_INFO_RESPONSE_CODE, &status)
        if finalCode == CURLE_OK { return HTTPResult(status: status, totalMicroseconds: 0) }
        throw makeError(finalCode, url: request.url, status: status)
    }

    /// Turns a curl result code into a `TransportError`: the one place that knows curl's codes.
    private func makeError(_ code: CURLcode, url: String, status: Int) -> TransportError {
        var connectTime: curl_off_t = 0
        etch_getinfo_offt(handle, ETCH_INFO_CONNECT_TIME_T, &connectTime)
        // Whether the request may have reached a server: a connection was made for it, an answer began, or
        // its request line went out. The last is what tells on a reused keep-alive connection, whose connect
        // time is 0 (etcd sends no status until its whole reply is built, so a write that timed out there had
        // been sent).
        var requestBytes = 0
        etch_getinfo_long(handle, ETCH_INFO_REQUEST_SIZE, &requestBytes)
        let connected = connectTime > 0 || status != 0 || requestBytes > 0
        let buffer = String(cString: errorBuffer)
        var detail = buffer.isEmpty ? String(cString: curl_easy_strerror(code)) : buffer
        var kind: TransportError.Kind
        switch code {
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            kind = .connect
        case CURLE_OPERATION_TIMEDOUT:
            kind = connected ? .timeout : .connect
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM,
             CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CIPHER, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_CRL_BADFILE,
             CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ENGINE_SETFAILED:
            kind = .tls
        case CURLE_GOT_NOTHING:
            kind = .emptyReply
        case CURLE_ABORTED_BY_CALLBACK where idleExpired:
            kind = .idle
        case CURLE_WRITE_ERROR where stopRequested, CURLE_ABORTED_BY_CALLBACK:
            kind = .aborted
        case CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_PARTIAL_FILE:
            kind = .broken
        default:
            kind = .other
        }
        if kind == .idle {
            detail = "nothing received for \(idleLimitNanoseconds / 1_000_000)ms"
        }
        if let why = TransportError.explainTLS(detail, flagPrefix: options.tlsFlagPrefix) {
            // A server that rejects the client's certificate does so before it reads any request (with TLS 1.3
            // the alert arrives on the first read, after curl has sent the request): nothing was applied.
            kind = .tls
            detail = why + " (" + detail + ")"
        }
        return TransportError(kind: kind, url: url, detail: detail, curlCode: Int(code.rawValue),
                              mayHaveReachedServer: kind == .connect || kind == .tls ? false : connected, httpStatus: status)
    }
}

/// Work run on a thread of its own (one curl handle per thread), joined once. Used to have a second request
/// in flight while the first one's reply is printed.
public final class BackgroundWork: @unchecked Sendable {
    private var thread = pthread_t()
    private var work: (() -> Void)?
    private var started = false

    public init(_ work: @escaping () -> Void) {
        self.work = work
        let me = Unmanaged.passRetained(self).toOpaque()
        started = pthread_create(&thread, nil, { context in
            let task = Unmanaged<BackgroundWork>.fromOpaque(context!).takeRetainedValue()
            task.work?()
            task.work = nil
            return nil
        }, me) == 0
        if !started {  // no thread (a process limit): the work runs in join(), on the caller's thread
            Unmanaged<BackgroundWork>.fromOpaque(me).release()
        }
    }

    /// Waits for the work to end (or, when no thread could be started, does it now).
    public func join() {
        if started {
            pthread_join(thread, nil)
            started = false
        } else if let w = work {
            work = nil
            w()
        }
    }
}

/// CLOCK_MONOTONIC in nanoseconds.
public func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// Whether a socket that signals readable has only the end of the stream left (recv would return 0).
func peekEOF(_ sock: Int32) -> Bool {
    var byte: UInt8 = 0
    return recv(sock, &byte, 1, Int32(MSG_PEEK) | Int32(MSG_DONTWAIT)) == 0
}
