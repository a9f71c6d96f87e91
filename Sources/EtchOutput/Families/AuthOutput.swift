import EtchGateway

/// The auth family (`auth enable/disable/status`, `user *`, `role *`), in each format etcdctl has for it.
///
/// etcdctl prints a change (`user add`, `role grant-permission`, ...) as one line in simple, the header in json,
/// fields and protobuf, and has no table. `user get` and `user list` have no fields either. In jsonl each line
/// names what it is about (`user`, `role`), and a change's line carries the header as put's does.
public enum AuthOutput {
    /// The header as put's JSON line has it: the revision, the cluster and member IDs (strings), the raft term.
    static func headerFields(_ h: ResponseHeader?) -> [(String, EncodedValue)] {
        guard let h else { return [] }
        return [("revision", .int(h.revision)), ("cluster_id", .uint(h.clusterID)), ("member_id", .uint(h.memberID)),
                ("raft_term", .uint(h.raftTerm))]
    }

    /// A change that prints `text` (a whole line, as raw bytes) in simple, the header in json, fields and
    /// protobuf, and one JSON line of `subject` with the header.
    public static func change(_ text: [UInt8], subject: [(String, EncodedValue)]) -> Output<HeaderOnlyResponse> {
        .message(
            simple: { _, out in out.append(text) },
            fields: { r, out in try FieldsFormat.header(r.header, out) },
            jsonl: { r in [.object(subject + headerFields(r.header))] })
    }

    /// `auth enable` / `auth disable`: etcdctl prints the line whatever `-w` says.
    public static func authSwitched(enabled: Bool) -> Output<HeaderOnlyResponse> {
        .text({ _, out in out.append(enabled ? "Authentication Enabled\n" : "Authentication Disabled\n") },
              jsonl: { r in [.object([("enabled", .bool(enabled))] + headerFields(r.header))] })
    }

    /// `auth status` (etcdctl 3.5): two lines in simple, the message in json and protobuf; no fields or table.
    public static let authStatus = Output<AuthStatusResponse>.message(
        simple: { r, out in out.append("Authentication Status: \(r.enabled)\nAuthRevision: \(r.authRevision)\n") },
        jsonl: { r in [.object([("enabled", .bool(r.enabled)), ("authRevision", .uint(r.authRevision))] + headerFields(r.header))] })

    /// `user get <name>`: `User: u1` and `Roles: r1 r2`; no fields. One JSON line with the user's roles.
    public static func userGet(_ name: String) -> Output<AuthUserGetResponse> {
        .message(
            simple: { r, out in
                out.append("User: \(name)\nRoles:")
                for role in r.roles { out.append(" " + role) }
                out.append("\n")
            },
            jsonl: { r in [.object([("user", .string(name)), ("roles", .list(r.roles.map { .string($0) }))])] })
    }

    /// `user list`: one name a line; no fields. One JSON line per user.
    public static let userList = Output<AuthUserListResponse>.message(
        simple: { r, out in for u in r.users { out.append(u + "\n") } },
        jsonl: { r in r.users.map { .object([("user", .string($0))]) } })

    /// `role list`: one name a line; fields `"Roles" : "r1" "r2"`. One JSON line per role.
    public static let roleList = Output<AuthRoleListResponse>.message(
        simple: { r, out in for role in r.roles { out.append(role + "\n") } },
        fields: { r, out in
            try FieldsFormat.header(r.header, out)
            out.append("\"Roles\" :")
            for role in r.roles { out.append(" " + FieldsFormat.quoted(role)) }
            out.append("\n")
        },
        jsonl: { r in r.roles.map { .object([("role", .string($0))]) } })

    /// `role get <name>`: `Role r1`, then the permissions that allow reading and those that allow writing, each
    /// as `\t/key`, `\t[/from, /to)`, `\t[/from, <open ended>`, with ` (prefix /p)` when the range is a prefix;
    /// keys print as raw bytes. Fields print each permission's type, key and range end. One JSON line per
    /// permission.
    public static func roleGet(_ name: String) -> Output<AuthRoleGetResponse> {
        .message(
            simple: { r, out in
                out.append("Role \(name)\nKV Read:\n")
                for p in r.perm where p.permType == .read || p.permType == .readwrite { permissionLine(p, out) }
                out.append("KV Write:\n")
                for p in r.perm where p.permType == .write || p.permType == .readwrite { permissionLine(p, out) }
            },
            fields: { r, out in
                try FieldsFormat.header(r.header, out)
                for p in r.perm {
                    // Go's Println puts a space between `"PermType" : ` and the name: two spaces.
                    out.append("\"PermType\" :  \(p.permType.name)\n")
                    out.append("\"Key\" : \(FieldsFormat.quoted(p.key))\n")
                    out.append("\"RangeEnd\" : \(FieldsFormat.quoted(p.range_end))\n")
                }
            },
            jsonl: { r in r.perm.map { .object([("role", .string(name))] + permissionFields($0)) } })
    }

    /// A permission as JSON-lines fields: `permType` by name, `key` and `range_end` as text (or `_base64`).
    public static func permissionFields(_ p: Permission) -> [(String, EncodedValue)] {
        [("permType", .enumeration(p.permType.rawValue, name: p.permType.name)), ("key", .bytes(p.key)),
         ("range_end", .bytes(p.range_end))]
    }

    /// One permission line of `role get`'s simple output.
    static func permissionLine(_ p: Permission, _ out: OutputBuffer) {
        out.append(UInt8(ascii: "\t"))
        guard !p.range_end.isEmpty else {
            out.append(p.key)
            out.append(UInt8(ascii: "\n"))
            return
        }
        out.append(UInt8(ascii: "["))
        out.append(p.key)
        if p.range_end != [0] {
            out.append(", ")
            out.append(p.range_end)
            out.append(")")
        } else {
            out.append(", <open ended>")
        }
        if prefixRangeEnd(p.key) == p.range_end {
            out.append(" (prefix ")
            out.append(p.key)
            out.append(")")
        }
        out.append(UInt8(ascii: "\n"))
    }

    /// One role of `user get --detail`: as role get prints it, and in jsonl one line for the role with the
    /// user's name and the role's permissions (`perm`), so a role without any still shows.
    public static func userDetail(user: String, role: String) -> Output<AuthRoleGetResponse> {
        var o = roleGet(role)
        o.jsonl = { r in
            [.object([("user", .string(user)), ("role", .string(role)),
                      ("perm", .list(r.perm.map { .object(permissionFields($0)) }))])]
        }
        return o
    }
}
