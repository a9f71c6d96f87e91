import EtchGateway
import EtchOutput

/// Why a restore (or its configuration) failed: etcdctl's message, printed as `Error: <message>`.
public struct MemberDataError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// etcd's peer URL lists (pkg/types URLs): each URL trimmed, its scheme http, https, unix or unixs, its host
/// `host:port`, no path; kept sorted as etcd sorts them.
struct PeerURLs: Equatable {
    let urls: [String]

    init(_ strings: [String]) throws(MemberDataError) {
        if strings.isEmpty { throw MemberDataError("no valid URLs given") }
        urls = try strings.map { (s) throws(MemberDataError) in try PeerURLs.check(s) }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// One URL as Go's url.Parse reads it, far enough for NewURLs's three checks; the URL as etcd writes it back
    /// (the scheme in lower case).
    static func check(_ raw: String) throws(MemberDataError) -> String {
        let s = trimSpace(raw)
        var scheme = ""
        var rest = Substring(s)
        if let colon = s.firstIndex(of: ":") {
            let candidate = s[..<colon]
            let valid = candidate.first.map { $0.isASCII && $0.isLetter } == true
                && candidate.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "+-.".contains($0)) }
            if valid {
                scheme = candidate.lowercased()
                rest = s[s.index(after: colon)...]
            }
        }
        guard ["http", "https", "unix", "unixs"].contains(scheme) else {
            throw MemberDataError("URL scheme must be http, https, unix, or unixs: \(s)")
        }
        if let cut = rest.firstIndex(where: { $0 == "#" }) { rest = rest[..<cut] }
        var query = Substring("")
        if let q = rest.firstIndex(of: "?") { query = rest[q...]; rest = rest[..<q] }
        var host = Substring("")
        var path = rest
        if rest.hasPrefix("//") {
            let authority = rest.dropFirst(2)
            let end = authority.firstIndex(of: "/") ?? authority.endIndex
            host = authority[..<end]
            path = authority[end...]
            if let at = host.lastIndex(of: "@") { host = host[host.index(after: at)...] }
        }
        guard splitsHostPort(host) else {
            throw MemberDataError("URL address does not have the form \"host:port\": \(s)")
        }
        if !path.isEmpty { throw MemberDataError("URL must not contain a path: \(s)") }
        return scheme + ":" + String(rest) + String(query)
    }

    /// Go's net.SplitHostPort succeeds: `host:port` or `[v6]:port`, no other colon.
    static func splitsHostPort(_ h: Substring) -> Bool {
        if h.hasPrefix("[") {
            guard let close = h.firstIndex(of: "]") else { return false }
            let after = h[h.index(after: close)...]
            return after.hasPrefix(":") && !after.dropFirst().contains(":") && !after.dropFirst().contains("[")
        }
        guard let colon = h.lastIndex(of: ":") else { return false }
        let name = h[..<colon]
        return !name.contains(":") && !name.contains("[") && !name.contains("]")
    }

    static func trimSpace(_ s: String) -> String {
        let isSpace = { (c: Character) in c.isWhitespace }
        return String(s.drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }
}

/// One member of the cluster a restore bootstraps.
struct Member: Equatable {
    let id: UInt64
    let name: String
    let peerURLs: [String]

    /// etcd's NewMember without a time: the ID is the SHA-1 of the sorted peer URLs then the cluster token.
    init(name: String, peerURLs: [String], token: String) {
        self.name = name
        self.peerURLs = peerURLs
        id = SHA1.id(Array(peerURLs.joined().utf8) + Array(token.utf8))
    }

    /// The member as Go's encoding/json writes etcd's Member (the raft ConfChange's context and the backend's
    /// members bucket): `{"id":N,"peerURLs":[...],"name":"..."}`, the name left out when empty.
    var json: [UInt8] {
        var out = Array("{\"id\":\(id),".utf8)
        appendPeerURLs(&out)
        if !name.isEmpty {
            out += Array(",\"name\":".utf8)
            GoJSON.appendString(Array(name.utf8), to: &out, escapeHTML: true)
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// etcd's RaftAttributes as JSON (the v2 store's raftAttributes value): `{"peerURLs":[...]}`.
    var raftAttributesJSON: [UInt8] {
        var out = Array("{".utf8)
        appendPeerURLs(&out)
        out.append(UInt8(ascii: "}"))
        return out
    }

    private func appendPeerURLs(_ out: inout [UInt8]) {
        out += Array("\"peerURLs\":[".utf8)
        for (i, u) in peerURLs.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            GoJSON.appendString(Array(u.utf8), to: &out, escapeHTML: true)
        }
        out.append(UInt8(ascii: "]"))
    }

    /// etcd's types.ID String(): lower-case hex without leading zeros.
    var hexID: String { String(id, radix: 16) }
}

/// The cluster a restore bootstraps: `--initial-cluster` checked as etcd's ServerConfig.VerifyBootstrap checks
/// it, its members in ID order, the cluster ID.
public struct BootstrapCluster {
    let members: [Member]
    let local: Member
    let clusterID: UInt64

    /// `initialCluster` is `name=url,...`; `advertised` this member's peer URLs (comma-separated).
    public init(name: String, initialCluster: String, token: String, advertisedPeerURLs: String) throws(MemberDataError) {
        let advertised = try PeerURLs(advertisedPeerURLs.split(separator: ",", omittingEmptySubsequences: false).map(String.init))
        // types.NewURLsMap: `name=url` pairs, a name given twice gathers its URLs.
        var byName: [(name: String, urls: [String])] = []
        for pair in initialCluster.split(separator: ",", omittingEmptySubsequences: true) {
            let (key, value) = pair.firstIndex(of: "=").map { (String(pair[..<$0]), String(pair[pair.index(after: $0)...])) } ?? (String(pair), "")
            if let i = byName.firstIndex(where: { $0.name == key }) { byName[i].urls.append(value) } else { byName.append((key, [value])) }
        }
        byName.sort { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
        let cluster = try byName.map { (e) throws(MemberDataError) in (name: e.name, urls: try PeerURLs(e.urls).urls) }
        let pairs = cluster.flatMap { c in c.urls.map { "\(c.name)=\($0)" } }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }

        guard let mine = cluster.first(where: { $0.name == name }) else {
            throw MemberDataError("couldn't find local name \(goQuote(name)) in the initial cluster configuration")
        }
        try BootstrapCluster.advertiseMatches(name: name, cluster: mine.urls, advertised: advertised.urls)
        let all = pairs.map { $0[$0.index(after: $0.firstIndex(of: "=")!)...] }
        if Set(all).count != all.count {
            throw MemberDataError("initial cluster \(pairs.joined(separator: ",")) has duplicate url")
        }
        if pairs.isEmpty { throw MemberDataError("initial cluster unset and no discovery URL found") }

        var members: [Member] = []
        for c in cluster {
            let m = Member(name: c.name, peerURLs: c.urls, token: token)
            if members.contains(where: { $0.id == m.id }) {
                throw MemberDataError("member exists with identical ID \(m.hexID)")
            }
            if m.id == 0 { throw MemberDataError("cannot use 0 as member id") }
            members.append(m)
        }
        self.members = members.sorted { $0.id < $1.id }
        local = members.first { $0.name == name }!
        // genID: SHA-1 of the sorted member IDs, big-endian.
        clusterID = SHA1.id(self.members.flatMap { m in (0..<8).map { UInt8(truncatingIfNeeded: m.id >> (56 - 8 * UInt64($0))) } })
    }

    /// advertiseMatchesCluster: this member's URLs in --initial-cluster are the advertised ones. etcd resolves
    /// host names before it gives up; etch compares the URLs as written (no DNS lookups).
    static func advertiseMatches(name: String, cluster: [String], advertised: [String]) throws(MemberDataError) {
        if cluster == advertised { return }
        let why = cluster.count != advertised.count
            ? "len(\(goList(advertised))) != len(\(goList(cluster)))"
            : zip(advertised, cluster).first { $0 != $1 }.map { "resolved urls: \(goQuote($0.0)) != \(goQuote($0.1))" } ?? ""
        let missing = cluster.filter { !advertised.contains($0) }
        if !missing.isEmpty {
            throw MemberDataError("--initial-cluster has \(missing.map { "\(name)=\($0)" }.joined(separator: ",")) but missing from --initial-advertise-peer-urls=\(advertised.joined(separator: ",")) (\(why))")
        }
        let extra = advertised.filter { !cluster.contains($0) }
        let mine = advertised.map { "\(name)=\($0)" }.joined(separator: ",")
        if !extra.isEmpty {
            throw MemberDataError("--initial-advertise-peer-urls has \(extra.joined(separator: ",")) but missing from --initial-cluster=\(mine)")
        }
        throw MemberDataError("failed to resolve \(advertised.joined(separator: ",")) to match --initial-cluster=\(mine) (\(why))")
    }

    /// Go's `%q` of a []string: `["a" "b"]`.
    static func goList(_ s: [String]) -> String { "[" + s.map(goQuote).joined(separator: " ") + "]" }
}

/// Go's `%q` of a string.
func goQuote(_ s: String) -> String { GoQuote.quote(Array(s.utf8)) }
